"""Sending on Telegram: a Reply as messages (split at Telegram's limits), edits, tap answers.

Network failures are retried here with backoff; flood waits are left to AIORateLimiter, which
already waits them out and retries, so they are not retried twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
)
from telegram.constants import CallbackQueryLimit, MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bots.core.values import Button, Reply

log = logging.getLogger("bots.telegram_bot")

# Answers are retried with backoff (0.5, 1, 2 ... 30 s: about a minute in all) before a
# failure is logged as lost.
SEND_ATTEMPTS = 8
_BACKOFF_S = 0.5
_MAX_BACKOFF_S = 30.0
_T = TypeVar("_T")


async def send_reply(
    bot: ExtBot[Any], chat_id: int, reply: Reply, *, reply_to: int | None = None
) -> Message:
    """Send a Reply: text (split at Telegram's limit) or a photo with the text as its caption.

    Buttons go under the last message, which is returned. A caption longer than Telegram allows
    becomes a message of its own after the photo. Files (an export) follow as documents.
    """
    sent = await _send_text_or_photo(bot, chat_id, reply, reply_to)
    for attachment in reply.files:
        document = InputFile(attachment.data, filename=attachment.filename)
        sent = await deliver(
            functools.partial(bot.send_document, chat_id, document), "sending a file"
        )
    return sent


async def _send_text_or_photo(
    bot: ExtBot[Any], chat_id: int, reply: Reply, reply_to: int | None
) -> Message:
    markup = keyboard(reply.buttons)
    quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    text = reply.text
    if reply.photo is not None:
        photo = reply.photo
        fits = _utf16_len(text) <= MessageLimit.CAPTION_LENGTH
        sent = await deliver(
            lambda: bot.send_photo(
                chat_id,
                photo,
                caption=text if fits else None,
                reply_markup=markup if fits else None,
                reply_parameters=quote,
            ),
            "sending a chart",
        )
        if fits:
            return sent
        quote = None
    chunks = _chunks(text, MessageLimit.MAX_TEXT_LENGTH)
    for i, chunk in enumerate(chunks):
        sent = await deliver(
            functools.partial(
                bot.send_message,
                chat_id,
                chunk,
                reply_markup=markup if i == len(chunks) - 1 else None,
                reply_parameters=quote if i == 0 else None,
            ),
            "sending an answer",
        )
    return sent


async def answer_query(query: CallbackQuery, notice: str) -> None:
    text = notice[: CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH] or None
    try:
        await deliver(lambda: query.answer(text), "answering a button tap")
    except TelegramError as error:
        log.warning("answering a button tap failed: %s", error)


async def edit(query: CallbackQuery, reply: Reply) -> None:
    """Show the outcome in the tapped message; a repeated tap that changes nothing is fine."""
    try:
        await deliver(
            lambda: query.edit_message_text(reply.text, reply_markup=keyboard(reply.buttons)),
            "editing a message",
        )
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def deliver(send: Callable[[], Awaitable[_T]], what: str) -> _T:
    """Call the Bot API, retrying network failures with backoff.

    Flood waits (RetryAfter) are AIORateLimiter's to wait out and retry: one that reaches here
    is final, like Telegram's refusals (BadRequest, Forbidden), and raised at once.
    """
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send()
        except (RetryAfter, BadRequest, Forbidden):
            raise
        except NetworkError as error:  # TimedOut included; BadRequest is a NetworkError too
            if attempt == SEND_ATTEMPTS:
                log.error("%s failed %d times, giving up: %s", what, attempt, error)
                raise
            delay = min(_BACKOFF_S * 2 ** (attempt - 1), _MAX_BACKOFF_S)
        log.warning("%s failed (attempt %d), retrying in %.1f s", what, attempt, delay)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def keyboard(buttons: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in buttons]
    )


def _chunks(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` UTF-16 units, split at line ends where possible."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        # A line too long on its own is cut hard; limit // 2 characters always fit.
        step = len(line) if _utf16_len(line) <= limit else limit // 2
        pieces += [line[i : i + step] for i in range(0, len(line), step)]
    chunks = [""]
    for piece in pieces:
        if _utf16_len(chunks[-1] + piece) > limit:
            chunks.append("")
        chunks[-1] += piece
    return [c for c in chunks if c.strip()] or [text]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2

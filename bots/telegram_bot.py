"""The Telegram adapter: python-telegram-bot updates in, VoiceMoodService calls, its Replies out.

python-telegram-bot 22 does the platform work: long polling or a webhook, concurrent update
processing (a burst of voice notes is analysed side by side, so the shared worker can batch),
flood control (AIORateLimiter waits out Telegram's 429s) and the job queue that posts daily
digests. Every sentence comes from the service and bots/i18n; this module only decides where
and how it is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import mimetypes
import operator
import secrets
import time
import traceback
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any, TypeVar
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReactionType,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
)
from telegram import User as TelegramUser
from telegram.constants import (
    BotCommandLimit,
    CallbackQueryLimit,
    ChatAction,
    ChatType,
    FileSizeLimit,
    MessageLimit,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    MessageReactionHandler,
    filters,
)

from bots.i18n import command_help
from bots.service import (
    DEFAULT_DIGEST_TIME,
    Button,
    ButtonAnswer,
    Reply,
    User,
    VoiceMoodService,
    VoiceNote,
    Where,
)
from common.audio import RECORDING_SUFFIXES
from inference.errors import TooLarge

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# Every command the service knows; the menu leaves out /start, which Telegram offers by itself.
COMMANDS = (
    "start",
    "help",
    "optin",
    "optout",
    "donate",
    "baseline",
    "forget",
    "summary",
    "digest",
    "lang",
    "privacy",
    "analysis",
)
MENU_LANGUAGES = ("en", "ko")
# message_reaction is only delivered to bots that ask for it (and, in groups, are admins).
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MESSAGE_REACTION,
    Update.MY_CHAT_MEMBER,
)
AUDIO_EXTENSIONS = RECORDING_SUFFIXES
RECORDINGS = filters.UpdateType.MESSAGE & (
    filters.VOICE
    | filters.AUDIO
    | filters.VIDEO_NOTE
    | filters.Document.AUDIO
    | functools.reduce(operator.or_, map(filters.Document.FileExtension, AUDIO_EXTENSIONS))
)
ADMIN_STATUSES = frozenset({ChatMember.ADMINISTRATOR, ChatMember.OWNER})

# Answers are retried with backoff (0.5, 1, 2 ... 30 s: about a minute in all) before a
# failure is logged as lost.
SEND_ATTEMPTS = 8
_BACKOFF_S = 0.5
_MAX_BACKOFF_S = 30.0
_ACTION_EVERY_S = 4.5  # Telegram shows a chat action for 5 s
_ADMIN_CACHE_S = 60.0
_DIGEST_GRACE = timedelta(minutes=10)  # a digest late by less than this is still posted
_T = TypeVar("_T")

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class TelegramHandle:
    """A running Telegram bot; `stop()` ends polling (or the webhook) and closes it cleanly."""

    application: TelegramApp

    async def stop(self) -> None:
        """Stop fetching updates, finish the ones in hand, then close the connections."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


async def start_telegram(
    service: VoiceMoodService,
    token: str,
    *,
    api_base: str | None = None,
    file_base: str | None = None,
    webhook_url: str | None = None,
    webhook_listen: str = "0.0.0.0",
    webhook_port: int = 8443,
    poll_timeout_s: float = 10.0,
    **options: Any,
) -> TelegramHandle:
    """Start the bot on the running event loop: long polling, or a webhook when a URL is given.

    `options` go to build_application. The command menu is registered in English and Korean.
    """
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    httpx_log = logging.getLogger("httpx")
    httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))
    app = build_application(service, token, api_base=api_base, file_base=file_base, **options)
    try:
        await app.initialize()
        await register_commands(app.bot)
        await app.start()
        assert app.updater is not None
        if webhook_url:
            await app.updater.start_webhook(
                listen=webhook_listen,
                port=webhook_port,
                url_path=urlparse(webhook_url).path.lstrip("/"),
                webhook_url=webhook_url,
                allowed_updates=list(ALLOWED_UPDATES),
                # Telegram echoes this in a header, so forged updates are refused.
                secret_token=secrets.token_urlsafe(32),
                bootstrap_retries=3,
            )
        else:
            await app.updater.start_polling(
                poll_interval=0,
                timeout=timedelta(seconds=poll_timeout_s),
                allowed_updates=list(ALLOWED_UPDATES),
                bootstrap_retries=3,
            )
    except BaseException:
        await TelegramHandle(app).stop()
        raise
    return TelegramHandle(app)


def build_application(
    service: VoiceMoodService,
    token: str,
    *,
    api_base: str | None = None,
    file_base: str | None = None,
    concurrent_updates: int = 256,
    download_limit_bytes: int | None = FileSizeLimit.FILESIZE_DOWNLOAD,
    digest_check_s: float = 60.0,
    flood_retries: int = 3,
) -> TelegramApp:
    """The Application with every handler; `download_limit_bytes` is None for a local Bot API.

    Voice notes are processed concurrently (up to `concurrent_updates` at a time): the shared
    worker's bounded queue, not this adapter, decides when to answer "busy".
    """
    builder = (
        ApplicationBuilder()
        .token(token)
        .concurrent_updates(concurrent_updates)
        .rate_limiter(AIORateLimiter(max_retries=flood_retries))
        # A burst shares the connection pool with downloads: wait for a free connection.
        .pool_timeout(30.0)
    )
    if api_base:
        builder = builder.base_url(api_base)
    if file_base:
        builder = builder.base_file_url(file_base)
    app = builder.build()
    bot = TelegramAdapter(service, download_limit_bytes)
    app.add_handlers(
        [
            MessageHandler(RECORDINGS, bot.on_recording),
            CommandHandler(COMMANDS, bot.on_command),
            # In a private chat an unknown command gets a pointer to /help; in groups it may
            # be meant for another bot.
            MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, bot.on_command),
            CallbackQueryHandler(bot.on_button),
            MessageReactionHandler(bot.on_reaction),
            MessageHandler(filters.StatusUpdate.MIGRATE, bot.on_migration),
            ChatMemberHandler(bot.on_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        ]
    )
    app.add_error_handler(bot.on_error)
    if app.job_queue is None:
        raise RuntimeError("install python-telegram-bot[job-queue] for daily digests")
    app.job_queue.run_repeating(bot.post_due_digests, interval=digest_check_s, first=1.0)
    return app


async def register_commands(bot: ExtBot[Any]) -> None:
    """The command menu in English (the default) and Korean; a failure only logs."""
    for lang in MENU_LANGUAGES:
        menu = [BotCommand(name, command_description(lang, name)) for name in COMMANDS[1:]]
        try:
            await bot.set_my_commands(menu, language_code=None if lang == "en" else lang)
        except TelegramError as error:
            log.warning("registering the %s command menu failed: %s", lang, error)


def command_description(lang: str, command: str) -> str:
    """The menu line for `/command`: its arguments and what it does, from the help text."""
    arguments, description = command_help(lang, command)
    line = f"{arguments} – {description}" if arguments else description
    return line[: BotCommandLimit.MAX_DESCRIPTION]


class TelegramAdapter:
    """The handlers: each turns one kind of update into one service call and sends its Reply."""

    def __init__(self, service: VoiceMoodService, download_limit_bytes: int | None) -> None:
        self.service = service
        self.download_limit_bytes = download_limit_bytes
        self._admins: dict[tuple[int, int], tuple[float, bool]] = {}
        self._digested: dict[int, datetime] = {}

    async def on_recording(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A voice note, audio file, video note or audio document: analyse it and reply to it."""
        message, sender = update.effective_message, update.effective_user
        if message is None or sender is None or sender.is_bot:
            return
        media, suffix = _recording(message)
        action = _ChatAction(context, message.chat_id)
        limit = self.download_limit_bytes

        async def fetch() -> bytes:
            action.start()  # the service decided to listen: show that it is working
            if limit is not None and (media.file_size or 0) > limit:
                raise TooLarge("too large for the Bot API", limit_mb=limit / 1_000_000)
            try:
                file = await _deliver(media.get_file, "looking up a file")
            except BadRequest as error:
                if "too big" in error.message.lower():
                    limit_mb = (limit or FileSizeLimit.FILESIZE_DOWNLOAD) / 1_000_000
                    raise TooLarge(error.message, limit_mb=limit_mb) from None
                raise
            return bytes(await _deliver(file.download_as_bytearray, "downloading a file"))

        note = VoiceNote(str(message.message_id), fetch, media.file_size, suffix)
        try:
            reply = await self.service.on_voice(_user(sender), _where(message.chat), note)
        finally:
            action.stop()
        if reply is not None:
            await self._answer(context.bot, message, reply)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command such as /summary week, with the sender's admin status in groups."""
        message, sender = update.effective_message, update.effective_user
        if message is None or sender is None or not message.text:
            return
        name = message.text.split(maxsplit=1)[0][1:].partition("@")[0]
        where = _where(message.chat)
        is_admin = where.is_group and await self._is_admin(context.bot, message, sender)
        reply = await self.service.on_command(
            _user(sender), where, name, list(context.args or []), is_admin=is_admin
        )
        await self._answer(context.bot, message, reply)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A tap on one of our buttons: always answered, then the message shows the result."""
        query = update.callback_query
        if query is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        answer = ButtonAnswer("")
        try:
            if message is not None:
                answer = await self.service.on_button(
                    _user(query.from_user),
                    _where(message.chat),
                    query.data or "",
                    message.text or "",
                )
        finally:
            # Telegram keeps the button spinning until the query is answered, even after an error.
            await _answer_query(query, answer.notice)
        if answer.edit is not None:
            await _edit(query, answer.edit)

    async def on_reaction(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reaction newly put on one of our answers votes; one taken off withdraws its vote."""
        change = update.message_reaction
        if change is None or change.user is None:
            return  # anonymous admins react as the chat: there is nobody to count
        user, where, message_id = _user(change.user), _where(change.chat), str(change.message_id)
        before, after = _emojis(change.old_reaction), _emojis(change.new_reaction)
        # Withdrawals first: swapping 😢 for 👍 on a note heard as sad must end with a sad vote.
        for emoji in before:
            if emoji not in after:
                await self.service.on_reaction_removed(user, where, message_id, emoji)
        for emoji in after:
            if emoji not in before:
                await self.service.on_reaction(user, where, message_id, emoji)

    async def on_migration(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup: its new id carries on with the group's consent and notes.

        Telegram posts one message in each chat; whichever is handled first moves the chat.
        """
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            old, new = message.chat_id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id is not None:
            old, new = message.migrate_from_chat_id, message.chat_id
        else:
            return
        await self.service.on_chat_migrated(Where(PLATFORM, str(old), is_group=True), str(new))

    async def on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was added to a group: post the intro with its opt-in button."""
        change = update.my_chat_member
        if change is None or change.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
            return
        if _is_in(change.old_chat_member) or not _is_in(change.new_chat_member):
            return
        reply = await self.service.on_group_joined(_where(change.chat))
        await send_reply(context.bot, change.chat.id, reply)

    async def post_due_digests(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Post the digest of each Telegram chat whose daily time (UTC) has just come."""
        now = datetime.now(UTC)
        for scheduled in await self.service.store.scheduled_digests():
            chat = scheduled.chat
            due = _last_occurrence(scheduled.settings.digest_time or DEFAULT_DIGEST_TIME, now)
            if chat.platform != PLATFORM or now - due > _DIGEST_GRACE:
                continue
            if self._digested.get(chat.id) == due:
                continue
            self._digested[chat.id] = due
            try:
                reply = await self.service.digest(chat)
                if reply is not None:
                    await send_reply(context.bot, int(chat.platform_chat_id), reply)
            except Exception:
                log.exception("posting the daily digest of chat %s failed", chat.id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log an unexpected error with the kind of update, never its content or the token."""
        error = context.error
        if error is None:
            return
        kind = _update_kind(update)
        detail = "".join(traceback.format_exception(error))
        log.error("handling %s failed:\n%s", kind, _redact(detail, context.bot.token))

    async def _answer(self, bot: ExtBot[Any], message: Message, reply: Reply) -> None:
        sent = await send_reply(bot, message.chat_id, reply, reply_to=message.message_id)
        if reply.note_id is not None:
            await self.service.remember_reply(
                _where(message.chat), reply.note_id, str(sent.message_id)
            )

    async def _is_admin(self, bot: ExtBot[Any], message: Message, sender: TelegramUser) -> bool:
        """getChatMember's word, cached briefly; an anonymous admin writes as the chat itself."""
        if message.sender_chat is not None and message.sender_chat.id == message.chat_id:
            return True
        key = (message.chat_id, sender.id)
        cached = self._admins.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            member = await _deliver(
                lambda: bot.get_chat_member(message.chat_id, sender.id), "checking admin rights"
            )
        except TelegramError as error:
            log.warning("checking admin rights failed: %s", error)
            return False
        is_admin = member.status in ADMIN_STATUSES
        self._admins[key] = (time.monotonic() + _ADMIN_CACHE_S, is_admin)
        return is_admin


async def send_reply(
    bot: ExtBot[Any], chat_id: int, reply: Reply, *, reply_to: int | None = None
) -> Message:
    """Send a Reply: text (split at Telegram's limit) or a photo with the text as its caption.

    Buttons go under the last message, which is returned. A caption longer than Telegram allows
    becomes a message of its own after the photo.
    """
    markup = _keyboard(reply.buttons)
    quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    text = reply.text
    if reply.photo is not None:
        photo = reply.photo
        fits = _utf16_len(text) <= MessageLimit.CAPTION_LENGTH
        sent = await _deliver(
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
        sent = await _deliver(
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


async def _answer_query(query: CallbackQuery, notice: str) -> None:
    text = notice[: CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH] or None
    try:
        await _deliver(lambda: query.answer(text), "answering a button tap")
    except TelegramError as error:
        log.warning("answering a button tap failed: %s", error)


async def _edit(query: CallbackQuery, reply: Reply) -> None:
    """Show the outcome in the tapped message; a repeated tap that changes nothing is fine."""
    try:
        await _deliver(
            lambda: query.edit_message_text(reply.text, reply_markup=_keyboard(reply.buttons)),
            "editing a message",
        )
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def _deliver(send: Callable[[], Awaitable[_T]], what: str) -> _T:
    """Call the Bot API, retrying flood waits and network failures with backoff.

    Telegram's refusals (BadRequest, Forbidden) are final and raised at once.
    """
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send()
        except RetryAfter as error:
            if attempt == SEND_ATTEMPTS:
                raise
            delay = _retry_after_s(error) + 0.1
        except (BadRequest, Forbidden):
            raise
        except NetworkError as error:  # TimedOut included; BadRequest is a NetworkError too
            if attempt == SEND_ATTEMPTS:
                log.error("%s failed %d times, giving up: %s", what, attempt, error)
                raise
            delay = min(_BACKOFF_S * 2 ** (attempt - 1), _MAX_BACKOFF_S)
        log.warning("%s failed (attempt %d), retrying in %.1f s", what, attempt, delay)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")


class _ChatAction:
    """Shows "typing…" from the moment the service decides to listen until the answer is sent."""

    def __init__(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        self._context, self._chat_id = context, chat_id
        self._done = asyncio.Event()
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            # The Application tracks the task and waits for it when it stops.
            self._context.application.create_task(self._show())

    def stop(self) -> None:
        # Not cancelled mid-request: that would drop the connection the request was on.
        self._done.set()

    async def _show(self) -> None:
        while not self._done.is_set():
            try:
                await self._context.bot.send_chat_action(self._chat_id, ChatAction.TYPING)
            except TelegramError as error:  # cosmetic: never worth failing the answer over
                log.debug("chat action failed: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), _ACTION_EVERY_S)


def _recording(message: Message) -> tuple[Any, str]:
    """The attachment to analyse and the file suffix it is stored under."""
    if message.voice is not None:
        return message.voice, "ogg"
    if message.video_note is not None:
        return message.video_note, "mp4"
    media = message.audio or message.document
    assert media is not None, "RECORDINGS lets only these four kinds through"
    return media, _suffix(media.file_name, media.mime_type)


def _suffix(file_name: str | None, mime_type: str | None) -> str:
    if file_name and "." in file_name:
        return file_name.rsplit(".", 1)[1].lower()
    guessed = mimetypes.guess_extension(mime_type or "") or ".bin"
    return guessed.lstrip(".")


def _user(user: TelegramUser) -> User:
    return User(PLATFORM, str(user.id), user.full_name, user.language_code)


def _where(chat: Chat) -> Where:
    return Where(PLATFORM, str(chat.id), chat.type in (ChatType.GROUP, ChatType.SUPERGROUP))


def _emojis(reactions: Sequence[ReactionType]) -> list[str]:
    """The plain emoji among reactions, in order (custom and paid ones are never votes)."""
    return [r.emoji for r in reactions if isinstance(r, ReactionTypeEmoji)]


def _keyboard(buttons: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in buttons]
    )


def _is_in(member: ChatMember) -> bool:
    """Whether the bot is in the chat (a restricted member still is)."""
    if member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER):
        return True
    return member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))


def _last_occurrence(at: clock_time, now: datetime) -> datetime:
    """The latest moment at or before `now` whose UTC clock reads `at`."""
    today = datetime.combine(now.date(), at.replace(tzinfo=None), UTC)
    return today if today <= now else today - timedelta(days=1)


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


def _retry_after_s(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns when retry_after is read as an int
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _update_kind(update: object) -> str:
    if not isinstance(update, Update):
        return "a background job"
    for kind in ALLOWED_UPDATES:
        if getattr(update, kind, None) is not None:
            return f"a {kind} update"
    return "an update"


def _redact(text: str, token: str) -> str:
    return text.replace(token, "<token>") if token else text

"""Telegram's handlers: each turns one kind of update into one service call and sends its Reply.

Every sentence comes from the service and bots/i18n; this module only decides where and how it
is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import traceback
from collections.abc import Sequence
from typing import Any

from telegram import Chat, ChatMember, Message, ReactionType, ReactionTypeEmoji, Update
from telegram import User as TelegramUser
from telegram.constants import ChatAction, ChatType, FileSizeLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes, ExtBot

from bots.core.service import VoiceMoodService
from bots.core.values import ButtonAnswer, Reply, User, VoiceNote, Where
from bots.telegram.admins import AdminCache
from bots.telegram.send import answer_query, deliver, edit, send_reply
from inference.errors import TooLarge

log = logging.getLogger("bots.telegram_bot")

PLATFORM = "telegram"
# message_reaction is only delivered to bots that ask for it (and, in groups, are admins).
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MESSAGE_REACTION,
    Update.MY_CHAT_MEMBER,
)
ADMIN_STATUSES = frozenset({ChatMember.ADMINISTRATOR, ChatMember.OWNER})
_ACTION_EVERY_S = 4.5  # Telegram shows a chat action for 5 s


class TelegramAdapter:
    """The handlers: each turns one kind of update into one service call and sends its Reply."""

    def __init__(self, service: VoiceMoodService, download_limit_bytes: int | None) -> None:
        self.service = service
        self.download_limit_bytes = download_limit_bytes
        self._admins = AdminCache()

    async def on_recording(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A voice note, audio file, video (note) or audio document: analyse it and reply to it."""
        message, sender = update.effective_message, update.effective_user
        if message is None or sender is None or sender.is_bot:
            return
        media, suffix = _recording(message)
        video = message.video_note is not None or message.video is not None
        action = _ChatAction(context, message.chat_id)
        limit = self.download_limit_bytes

        async def fetch() -> bytes:
            action.start()  # the service decided to listen: show that it is working
            # Telegram states its limit in decimal megabytes ("20 MB"), so it is shown that way.
            if limit is not None and (media.file_size or 0) > limit:
                raise TooLarge("too large for the Bot API", limit_mb=limit / 1_000_000)
            try:
                file = await deliver(media.get_file, "looking up a file")
            except BadRequest as error:
                if "too big" in error.message.lower():
                    limit_mb = (limit or FileSizeLimit.FILESIZE_DOWNLOAD) / 1_000_000
                    raise TooLarge(error.message, limit_mb=limit_mb) from None
                raise
            return bytes(await deliver(file.download_as_bytearray, "downloading a file"))

        note = VoiceNote(str(message.message_id), fetch, media.file_size, suffix, video)
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
            await answer_query(query, answer.notice)
        if answer.edit is not None:
            await edit(query, answer.edit)
        if answer.follow is not None and message is not None:
            await send_reply(context.bot, message.chat_id, answer.follow)

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
        """Post the digest of each Telegram chat that the service says is due now."""
        for due in await self.service.due_digests(PLATFORM):
            try:
                reply = await self.service.digest(due)
                if reply is not None:
                    await send_reply(context.bot, int(due.where.chat_id), reply)
            except Exception:
                log.exception("posting the daily digest of chat %s failed", due.chat_id)

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
        cached = self._admins.get(message.chat_id, sender.id)
        if cached is not None:
            return cached
        try:
            member = await deliver(
                lambda: bot.get_chat_member(message.chat_id, sender.id), "checking admin rights"
            )
        except TelegramError as error:
            log.warning("checking admin rights failed: %s", error)
            return False
        is_admin = member.status in ADMIN_STATUSES
        self._admins.put(message.chat_id, sender.id, is_admin)
        return is_admin


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
    if message.video is not None:
        return message.video, _suffix(
            message.video.file_name, message.video.mime_type or "video/mp4"
        )
    media = message.audio or message.document
    assert media is not None, "RECORDINGS lets only these five kinds through"
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


def _is_in(member: ChatMember) -> bool:
    """Whether the bot is in the chat (a restricted member still is)."""
    if member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER):
        return True
    return member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))


def _update_kind(update: object) -> str:
    if not isinstance(update, Update):
        return "a background job"
    for kind in ALLOWED_UPDATES:
        if getattr(update, kind, None) is not None:
            return f"a {kind} update"
    return "an update"


def _redact(text: str, token: str) -> str:
    return text.replace(token, "<token>") if token else text

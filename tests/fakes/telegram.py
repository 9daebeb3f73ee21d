"""A fake Telegram Bot API server that the real python-telegram-bot `Application` polls.

It listens on 127.0.0.1 only (aiohttp, already a project dependency). The npm telegram-test-api
does not work with PTB 22: it crashes on getMe and serves no files (see ARCHITECTURE.md).

    async with FakeTelegram() as fake:
        app = (ApplicationBuilder().token(fake.token).base_url(f"{fake.base_url}/bot")
               .base_file_url(f"{fake.base_url}/file/bot").build())
        fake.send_voice(private_chat(alice), alice, ogg_bytes, duration=3)
        call = await fake.wait_for("sendMessage")
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from telegram.constants import ReactionEmoji

from tests.fakes.telegram_objects import (
    JSON,
    chat_member,
    command_entities,
    emoji_reactions,
    group_chat,
    make_user,
    private_chat,
    utf16_len,
)

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "FakeTelegram",
    "chat_member",
    "group_chat",
    "make_user",
    "private_chat",
]

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForVoiceMoodTests"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files on the public Bot API
MAX_TEXT = 4096
MAX_CAPTION = 1024

# Update types Telegram only sends to bots that name them in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
# PTB sends every non-string parameter JSON-encoded inside a form; these are decoded back.
_JSON_FIELDS = frozenset(
    [
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "reaction",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
    ]
)
_NUMBER_FIELDS = frozenset(
    [
        "offset",
        "limit",
        "timeout",
        "message_id",
        "user_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "duration",
        "until_date",
    ]
)
_BOOL_FIELDS = frozenset(
    [
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "show_alert",
        "is_big",
        "has_spoiler",
        "allow_sending_without_reply",
        "show_caption_above_media",
    ]
)
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made, and how the fake answered it."""

    method: str  # the Bot API's own spelling, e.g. "sendMessage", whatever case the bot used
    params: dict[str, Any]
    time: float  # time.monotonic() when the answer was ready
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None
    error_code: int | None = None  # None when answered ok; 0 when the connection was dropped
    description: str | None = None

    @property
    def ok(self) -> bool:
        """True when the fake answered `{"ok": true}`."""
        return self.error_code is None


class ApiError(Exception):
    """A Bot API error answer: `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class _Fault:
    kind: str  # "flood" (429), "bad_gateway" (502) or "close" (drop the connection)
    retry_after: int = 0


@dataclass(frozen=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


_Handler = Callable[[JSON, dict[str, bytes]], Awaitable[Any]]


class FakeTelegram:
    """A Bot API server on 127.0.0.1 holding one bot, its chats, files and queued updates."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "voicemood_test_bot",
        bot_name: str = "VoiceMood",
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> None:
        self.token = token
        self.bot_user = make_user(
            int(token.split(":")[0]),
            bot_name,
            username=bot_username,
            language_code=None,
            is_bot=True,
        )
        self.max_download_bytes = max_download_bytes
        self.sent: list[Call] = []
        self.downloads: list[str] = []  # file paths the bot fetched from the file route
        self.allowed_updates: list[str] | None = None  # as the bot last asked in getUpdates
        self.webhook: JSON | None = None  # setWebhook's parameters (url, secret_token, ...)
        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "setMessageReaction": self._set_message_reaction,
                "getFile": self._get_file,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
            }.items()
        }
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = False
        # Each event is replaced after it fires, so a waiter that took one before checking
        # its condition can never miss a change (no lock needed: injection is synchronous).
        self._update_event = asyncio.Event()
        self._call_event = asyncio.Event()
        self._updates: list[JSON] = []
        self._next_update_id = 100_000
        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._members: dict[int, dict[int, JSON]] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_message_id: dict[int, int] = {}
        self._reactions: dict[tuple[int, int, int], list[JSON]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, _StoredFile] = {}
        self._open_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._counter = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1") -> None:
        """Listen on 127.0.0.1 (or `host`: a Docker network's gateway) on a free port."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # A short shutdown_timeout: open long polls are woken by stop() and return at once.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, host, 0).start()
        host, port = runner.addresses[0][:2]
        self._runner, self._base_url, self._closing = runner, f"http://{host}:{port}", False

    async def stop(self) -> None:
        """End open long polls and close the server."""
        if self._runner is None:
            return
        self._closing = True
        self._wake_pollers()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`: give PTB `f"{base_url}/bot"` as its base_url."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not running; await start() first")
        return self._base_url

    @property
    def base_file_url(self) -> str:
        """The same server: give PTB `f"{base_file_url}/file/bot"` as its base_file_url."""
        return self.base_url

    # -- what a test injects -----------------------------------------------------------------

    def add_file(
        self, data: bytes, *, folder: str = "documents", extension: str = "bin"
    ) -> tuple[str, str]:
        """Store bytes the bot can getFile and download; returns (file_id, file_unique_id)."""
        stored = self._store_file(data, folder, extension)
        return stored.file_id, stored.file_unique_id

    def send_text(self, chat: JSON, user: JSON, text: str, *, reply_to: int | None = None) -> JSON:
        """A text message; "/commands" in it carry bot_command entities as Telegram adds them."""
        return self._inject_message(
            chat, user, {"text": text, "entities": command_entities(text) or None}, reply_to
        )

    def send_voice(
        self,
        chat: JSON,
        user: JSON,
        data: bytes,
        duration: float,
        mime: str = "audio/ogg",
        *,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A voice note (Telegram's OGG/Opus recording) holding `data`."""
        stored = self._store_file(data, "voice", "oga")
        voice = {**_file_fields(stored), "duration": round(duration), "mime_type": mime}
        return self._inject_message(chat, user, {"voice": voice, "caption": caption}, reply_to)

    def send_audio(
        self,
        chat: JSON,
        user: JSON,
        data: bytes,
        duration: float,
        mime: str = "audio/mpeg",
        *,
        file_name: str = "audio.mp3",
        title: str | None = None,
        performer: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """An audio file (a music-player attachment, e.g. mp3 or m4a)."""
        stored = self._store_file(data, "music", _extension(file_name, "mp3"))
        audio = {
            **_file_fields(stored),
            "duration": round(duration),
            "mime_type": mime,
            "file_name": file_name,
            "title": title,
            "performer": performer,
        }
        return self._inject_message(chat, user, {"audio": _without_none(audio)}, reply_to)

    def send_video_note(
        self,
        chat: JSON,
        user: JSON,
        data: bytes,
        duration: float,
        *,
        length: int = 384,
        reply_to: int | None = None,
    ) -> JSON:
        """A round video message (mp4); `length` is its diameter in pixels."""
        stored = self._store_file(data, "video_notes", "mp4")
        note = {**_file_fields(stored), "duration": round(duration), "length": length}
        return self._inject_message(chat, user, {"video_note": note}, reply_to)

    def send_video(
        self,
        chat: JSON,
        user: JSON,
        data: bytes,
        duration: float,
        *,
        width: int = 640,
        height: int = 480,
        file_name: str = "video.mp4",
        mime: str = "video/mp4",
        reply_to: int | None = None,
    ) -> JSON:
        """A video message (a rectangular clip sent from the gallery or camera)."""
        stored = self._store_file(data, "videos", _extension(file_name, "mp4"))
        video = {
            **_file_fields(stored),
            "duration": round(duration),
            "width": width,
            "height": height,
            "file_name": file_name,
            "mime_type": mime,
        }
        return self._inject_message(chat, user, {"video": video}, reply_to)

    def send_document(
        self,
        chat: JSON,
        user: JSON,
        data: bytes,
        *,
        file_name: str = "file.bin",
        mime: str = "application/octet-stream",
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A file sent as a document (e.g. a .wav the user attached)."""
        stored = self._store_file(data, "documents", _extension(file_name, "bin"))
        document = {**_file_fields(stored), "file_name": file_name, "mime_type": mime}
        return self._inject_message(
            chat, user, {"document": document, "caption": caption}, reply_to
        )

    def press_button(self, chat: JSON, user: JSON, message_id: int, data: str) -> JSON:
        """`user` taps the inline button whose callback_data is `data` under a bot message."""
        message = self._stored_message(chat, message_id)
        buttons = [
            button
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]
        if not any(button.get("callback_data") == data for button in buttons):
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        self._remember(chat, user)
        query_id = str(4_000_000_000_000 + self._next_number())
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": copy.deepcopy(message),
            "chat_instance": str(abs(chat["id"]) * 7 + 1),
            "data": data,
        }
        return self._push({"callback_query": query})

    def react(
        self, chat: JSON, user: JSON, message_id: int, emoji: str | Sequence[str] | None
    ) -> JSON:
        """`user` sets their reaction on a message (None takes it away); old reaction included."""
        self._stored_message(chat, message_id)
        self._remember(chat, user)
        key = (chat["id"], message_id, user["id"])
        old, new = self._reactions.get(key, []), emoji_reactions(emoji)
        self._reactions[key] = new
        reaction = {
            "chat": chat,
            "message_id": message_id,
            "user": user,
            "date": _now(),
            "old_reaction": old,
            "new_reaction": new,
        }
        return self._push({"message_reaction": reaction})

    def add_bot_to_chat(self, chat: JSON, by: JSON, status: str = "member") -> JSON:
        """`by` adds the bot to `chat`: a my_chat_member update from "left" to `status`."""
        self._remember(chat, by)
        members = self._members.setdefault(chat["id"], {})
        old = members.get(self.bot_user["id"]) or chat_member(self.bot_user, "left")
        new = members[self.bot_user["id"]] = chat_member(self.bot_user, status)
        change = {
            "chat": chat,
            "from": by,
            "date": _now(),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        return self._push({"my_chat_member": change})

    def upgrade_group(self, group: JSON, supergroup: JSON, by: JSON) -> tuple[JSON, JSON]:
        """`by` upgrades a basic group to a supergroup (a new chat id): the two updates sent.

        As Telegram does, a service message with migrate_to_chat_id is posted in the old group,
        then one with migrate_from_chat_id in the new supergroup.
        """
        if group.get("type") != "group" or supergroup.get("type") != "supergroup":
            raise ValueError("upgrade_group takes a basic group and the supergroup it becomes")
        left = self._inject_message(group, by, {"migrate_to_chat_id": supergroup["id"]}, None)
        arrived = self._inject_message(supergroup, by, {"migrate_from_chat_id": group["id"]}, None)
        return left, arrived

    def add_member(self, chat: JSON, user: JSON, status: str, **fields: Any) -> JSON:
        """Make `user` a member of `chat` with this status ("creator", "administrator", ...)."""
        self._remember(chat, user)
        member = chat_member(user, status, **fields)
        self._members.setdefault(chat["id"], {})[user["id"]] = member
        return member

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """The message as it stands now (after edits), or None if unknown or deleted."""
        message = self._messages.get((chat_id, message_id))
        return copy.deepcopy(message) if message is not None else None

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates the bot has not confirmed with a getUpdates offset yet."""
        return copy.deepcopy(self._updates)

    # -- what a test observes ----------------------------------------------------------------

    def calls(self, method: str, *, failed: bool = False) -> list[Call]:
        """Recorded calls of one method (any case), answered ok unless `failed` is set."""
        name = method.lower()
        return [call for call in self.sent if call.method.lower() == name and (failed or call.ok)]

    async def wait_for(
        self,
        predicate: str | Callable[[Call], bool],
        # A timeout argument reads better in tests than wrapping each wait in asyncio.timeout.
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        since: int = 0,
        failed: bool = False,
    ) -> Call:
        """The first call from `sent[since:]` matching a method name or predicate, waiting for it."""
        match = _matcher(predicate)
        index = since
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._call_event
                    for call in self.sent[index:]:
                        if (failed or call.ok) and match(call):
                            return call
                    index = len(self.sent)
                    await event.wait()
        except TimeoutError:
            seen = [f"{c.method}{'' if c.ok else f' ({c.error_code})'}" for c in self.sent[since:]]
            raise TimeoutError(
                f"no matching call within {timeout} s; the bot made {seen}"
            ) from None

    # -- faults ------------------------------------------------------------------------------

    def fail_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 Too Many Requests (RetryAfter)."""
        self._add_faults(method, [_Fault("flood", retry_after)] * times)

    def fail_next_network(self, method: str, times: int = 1, *, close: bool = False) -> None:
        """Fail the next `times` calls with 502 Bad Gateway, or by dropping the connection."""
        self._add_faults(method, [_Fault("close" if close else "bad_gateway")] * times)

    def _add_faults(self, method: str, faults: list[_Fault]) -> None:
        entry = self._methods.get(method.lower())
        if entry is None:
            raise ValueError(f"the fake does not serve {method!r}")
        self._faults.setdefault(entry[0], []).extend(faults)

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _answer_error(ApiError(401, "Unauthorized"))
        raw_name = request.match_info["method"]
        name, handler = self._methods.get(raw_name.lower(), (raw_name, None))
        params: JSON = {}
        files: dict[str, bytes] = {}
        try:
            params, files = await _read_params(request)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            fault = self._take_fault(name)
            if fault is not None and fault.kind == "close":
                self._record_error(name, params, files, 0, "connection closed")
                if request.transport is not None:
                    request.transport.abort()
                return web.Response()
            if fault is not None and fault.kind == "bad_gateway":
                self._record_error(name, params, files, 502, "Bad Gateway")
                return web.Response(status=502, text="<html>502 Bad Gateway</html>")
            if fault is not None:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            result = await handler(params, files)
        except ApiError as error:
            self._record_error(name, params, files, error.code, error.description)
            return _answer_error(error)
        self._record(Call(name, params, time.monotonic(), files, result=copy.deepcopy(result)))
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self._file_paths.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return _answer_error(ApiError(404, "Not Found"))
        self.downloads.append(stored.file_path)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _take_fault(self, name: str) -> _Fault | None:
        queue = self._faults.get(name)
        return queue.pop(0) if queue else None

    def _record_error(
        self, name: str, params: JSON, files: dict[str, bytes], code: int, description: str
    ) -> None:
        self._record(Call(name, params, time.monotonic(), files, None, code, description))

    def _record(self, call: Call) -> None:
        self.sent.append(call)
        self._call_event.set()
        self._call_event = asyncio.Event()

    # -- Bot API methods ---------------------------------------------------------------------

    async def _get_me(self, params: JSON, files: dict[str, bytes]) -> JSON:
        # Privacy mode off: the fake delivers every group message, not only commands and replies.
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON, files: dict[str, bytes]) -> list[JSON]:
        offset = params.get("offset")
        if offset:
            self._confirm(int(offset))
        if params.get("allowed_updates") is not None:
            if not isinstance(params["allowed_updates"], list):
                raise ApiError(400, "Bad Request: can't parse allowed updates")
            self.allowed_updates = list(params["allowed_updates"])
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(float(params.get("timeout") or 0), 0.0)
        while True:
            event = self._update_event
            batch = self._deliverable()[:limit]
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return copy.deepcopy(batch)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _set_webhook(self, params: JSON, files: dict[str, bytes]) -> bool:
        # Updates are not pushed to the URL: a test posts the update dicts it injected itself.
        if not str(params.get("url", "")).startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook = dict(params)
        return True

    async def _delete_webhook(self, params: JSON, files: dict[str, bytes]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, bytes]) -> JSON:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _set_my_commands(self, params: JSON, files: dict[str, bytes]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not _BOT_COMMAND.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description is empty")
        self._commands[_commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON, files: dict[str, bytes]) -> list[JSON]:
        return copy.deepcopy(self._commands.get(_commands_key(params), []))

    async def _delete_my_commands(self, params: JSON, files: dict[str, bytes]) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    async def _send_message(self, params: JSON, files: dict[str, bytes]) -> JSON:
        chat = self._target_chat(params)
        text = _text(params)
        return self._bot_message(chat, params, {"text": text, "entities": params.get("entities")})

    async def _send_photo(self, params: JSON, files: dict[str, bytes]) -> JSON:
        chat = self._target_chat(params)
        data = self._uploaded(params, files, "photo")
        width, height = _image_size(data)
        stored = self._store_file(data, "photos", "jpg")
        caption = params.get("caption")
        if caption is not None and utf16_len(str(caption)) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        photo = [{**_file_fields(stored), "width": width, "height": height}]
        content = {
            "photo": photo,
            "caption": caption,
            "caption_entities": params.get("caption_entities"),
        }
        return self._bot_message(chat, params, content)

    async def _send_document(self, params: JSON, files: dict[str, bytes]) -> JSON:
        chat = self._target_chat(params)
        data = self._uploaded(params, files, "document")
        if not data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        name = str(params.get("document:filename") or "document")
        stored = self._store_file(data, "documents", name.rpartition(".")[2] or "bin")
        caption = params.get("caption")
        if caption is not None and utf16_len(str(caption)) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        document = {**_file_fields(stored), "file_name": name}
        return self._bot_message(chat, params, {"document": document, "caption": caption})

    async def _edit_message_text(self, params: JSON, files: dict[str, bytes]) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._own_message(params, "edit")
        text = _text(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = _inline_markup(params.get("reply_markup"))
        if message["text"] == text and message.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        _set_optional(message, "entities", params.get("entities"))
        _set_optional(message, "reply_markup", markup)  # no markup given removes the keyboard
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(
        self, params: JSON, files: dict[str, bytes]
    ) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._own_message(params, "edit")
        markup = _inline_markup(params.get("reply_markup"))
        if message.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        _set_optional(message, "reply_markup", markup)
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    async def _delete_message(self, params: JSON, files: dict[str, bytes]) -> bool:
        chat = self._target_chat(params)
        if self._messages.pop((chat["id"], _message_id(params)), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _answer_callback_query(self, params: JSON, files: dict[str, bytes]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._open_queries.discard(query_id)
        return True

    async def _send_chat_action(self, params: JSON, files: dict[str, bytes]) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _set_message_reaction(self, params: JSON, files: dict[str, bytes]) -> bool:
        chat = self._target_chat(params)
        message_id = _message_id(params)
        if (chat["id"], message_id) not in self._messages:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        reaction = params.get("reaction") or []
        allowed = {emoji.value for emoji in ReactionEmoji}
        for item in reaction:
            if item.get("type") != "emoji" or item.get("emoji") not in allowed:
                raise ApiError(400, "Bad Request: REACTION_INVALID")
        self._reactions[(chat["id"], message_id, self.bot_user["id"])] = list(reaction)
        return True

    async def _get_file(self, params: JSON, files: dict[str, bytes]) -> JSON:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > self.max_download_bytes:
            raise ApiError(400, "Bad Request: file is too big")
        return {**_file_fields(stored), "file_path": stored.file_path}

    async def _get_chat_member(self, params: JSON, files: dict[str, bytes]) -> JSON:
        chat = self._target_chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise ApiError(400, "Bad Request: user_id is empty")
        member = self._members.get(chat["id"], {}).get(user_id)
        if member is not None:
            return copy.deepcopy(member)
        if user_id == self.bot_user["id"]:
            return chat_member(self.bot_user, "member")
        if user_id not in self._users:
            raise ApiError(400, "Bad Request: user not found")
        in_private_chat = chat["type"] == "private" and chat["id"] == user_id
        return chat_member(self._users[user_id], "member" if in_private_chat else "left")

    async def _get_chat_administrators(self, params: JSON, files: dict[str, bytes]) -> list[JSON]:
        chat = self._target_chat(params)
        if chat["type"] == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        members = self._members.get(chat["id"], {}).values()
        return [copy.deepcopy(m) for m in members if m["status"] in ("creator", "administrator")]

    # -- state helpers -----------------------------------------------------------------------

    def _inject_message(self, chat: JSON, user: JSON, content: JSON, reply_to: int | None) -> JSON:
        self._remember(chat, user)
        message = {
            "message_id": self._new_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": _now(),
            **_without_none(content),
        }
        if reply_to is not None:
            message["reply_to_message"] = _as_replied(self._stored_message(chat, reply_to))
        self._messages[(chat["id"], message["message_id"])] = copy.deepcopy(message)
        return self._push({"message": message})

    def _bot_message(self, chat: JSON, params: JSON, content: JSON) -> JSON:
        markup = _inline_markup(params.get("reply_markup"))
        replied = self._replied_message(chat, params)
        message = {
            "message_id": self._new_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": _now(),
            **_without_none(content),
        }
        if replied is not None:
            message["reply_to_message"] = replied
        if markup is not None:  # Telegram echoes inline keyboards only, not reply keyboards
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _replied_message(self, chat: JSON, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        replied = self._messages.get((chat["id"], int(message_id)))
        if replied is not None:
            return _as_replied(replied)
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    def _own_message(self, params: JSON, verb: str) -> JSON:
        chat = self._target_chat(params)
        message = self._messages.get((chat["id"], _message_id(params)))
        if message is None:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, f"Bad Request: message can't be {verb}ed")
        return message

    def _target_chat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):  # "@username" of a public chat
            name = chat_id.removeprefix("@").lower()
            found = [c for c in self._chats.values() if str(c.get("username", "")).lower() == name]
            chat = found[0] if found else None
        else:
            chat = self._chats.get(int(chat_id))
        if chat is None and chat_id in self._users:  # seen in a group, never wrote to the bot
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _uploaded(self, params: JSON, files: dict[str, bytes], name: str) -> bytes:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
        if name in files:
            return files[name]
        if isinstance(value, str) and value in self._files:  # re-sending a known file_id
            return self._files[value].data
        if isinstance(value, str):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {name} in the request")

    def _stored_message(self, chat: JSON, message_id: int) -> JSON:
        message = self._messages.get((chat["id"], message_id))
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat['id']}")
        return message

    def _store_file(self, data: bytes, folder: str, extension: str) -> _StoredFile:
        number = self._next_number()
        stored = _StoredFile(
            file_id=f"FAKE{folder[:3].upper()}{number:08d}AgADBAADfakefileid",
            file_unique_id=f"AQAD{number:08d}",
            file_path=f"{folder}/file_{number}.{extension}",
            data=bytes(data),
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _remember(self, chat: JSON, user: JSON) -> None:
        self._chats[chat["id"]] = chat
        self._users[user["id"]] = user

    def _new_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _next_number(self) -> int:
        self._counter += 1
        return self._counter

    def _push(self, payload: JSON) -> JSON:
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        self._updates.append(update)
        self._wake_pollers()
        return copy.deepcopy(update)

    def _wake_pollers(self) -> None:
        self._update_event.set()
        self._update_event = asyncio.Event()

    def _confirm(self, offset: int) -> None:
        """Forget updates the bot confirmed: ids below a positive offset, all but the last -n."""
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    def _deliverable(self) -> list[JSON]:
        """Pending updates of types the bot asked for; Telegram never creates the others."""
        wanted = self.allowed_updates
        self._updates = [
            u
            for u in self._updates
            if (_update_type(u) in wanted if wanted else _update_type(u) not in _OPT_IN_UPDATES)
        ]
        return self._updates


async def _read_params(request: web.Request) -> tuple[JSON, dict[str, bytes]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, bytes] = {}
    if request.body_exists and request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON body") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: JSON body must be an object")
        raw.update(body)
    elif request.body_exists:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = value.file.read()
                # The upload's own name, which a sent document keeps (Document.file_name).
                raw[f"{name}:filename"] = value.filename
            else:
                raw[name] = value
    return {name: _coerce(name, value) for name, value in raw.items()}, files


def _coerce(name: str, value: Any) -> Any:
    """Decode one form value the way the Bot API reads that parameter."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    if name in _NUMBER_FIELDS or (name == "chat_id" and _NUMBER.fullmatch(value)):
        if not _NUMBER.fullmatch(value):
            raise ApiError(400, f"Bad Request: wrong parameter {name} in request")
        return float(value) if "." in value else int(value)
    if name in _BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def _inline_markup(markup: Any) -> JSON | None:
    """The markup a sent message carries: inline keyboards (checked), nothing for the others."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return {"inline_keyboard": markup["inline_keyboard"]}


def _text(params: JSON) -> str:
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _message_id(params: JSON) -> int:
    message_id = params.get("message_id")
    if not isinstance(message_id, int):
        raise ApiError(400, "Bad Request: message identifier is not specified")
    return message_id


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an uploaded photo; Telegram refuses what it cannot decode."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _file_fields(stored: _StoredFile) -> JSON:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }


def _as_replied(message: JSON) -> JSON:
    """A message as it appears inside reply_to_message: Telegram does not nest replies deeper."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def _update_type(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _matcher(predicate: str | Callable[[Call], bool]) -> Callable[[Call], bool]:
    if isinstance(predicate, str):
        name = predicate.lower()
        return lambda call: call.method.lower() == name
    return predicate


def _set_optional(message: JSON, key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value


def _extension(file_name: str, default: str) -> str:
    return file_name.rsplit(".", 1)[1].lower() if "." in file_name else default


def _without_none(data: JSON) -> JSON:
    return {key: value for key, value in data.items() if value is not None}


def _answer_error(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.code, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _now() -> int:
    return int(time.time())

"""A small fake Discord (gateway + REST + attachment CDN) on 127.0.0.1 for the real discord.py client.

Tests drive the real `discord.Client`, `app_commands.CommandTree` and `ui.View` against this
server, so payload shapes follow what discord.py 2.7 parses (checked against its source), not
the full Discord API. Point discord.py at it with `discord_py_pointed_at(fake)`; REST replies
carry exactly `Content-Type: application/json` because discord.py compares the header verbatim.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

API = "/api/v10"
FAKE_TOKEN = "fake-bot-token"
IS_VOICE_MESSAGE = 8192
EPHEMERAL = 64
LOADING = 128
HEARTBEAT_INTERVAL_MS = 41_250
# What a new guild's @everyone role may do; Discord's defaults minus moderation.
DEFAULT_EVERYONE = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    add_reactions=True,
    attach_files=True,
    embed_links=True,
    use_application_commands=True,
    send_voice_messages=True,
    connect=True,
    speak=True,
).value
_DISCORD_EPOCH_MS = 1_420_070_400_000
ClientT = TypeVar("ClientT", bound=discord.Client)


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request (`files[n]`)."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Call:
    """One REST request the bot made, as the fake received it."""

    method: str
    path: str  # relative to the API base, decoded: "/channels/1/messages/2/reactions/👍/@me"
    query: dict[str, str]
    json: Any
    files: tuple[UploadedFile, ...]
    status: int
    token: str | None


@dataclass(frozen=True)
class GatewayConnection:
    """One websocket connection: the path and query the client used."""

    path: str
    query: dict[str, str]


@dataclass(frozen=True)
class FakeUser:
    id: int
    name: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        """The user object Discord sends."""
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int

    def payload(self) -> dict[str, Any]:
        """The role object Discord sends."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass(frozen=True)
class FakeOverwrite:
    """A channel's permission overwrite for one role (type 0) or member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass(frozen=True)
class FakeChannel:
    id: int
    name: str
    type: int  # 0 guild text, 1 DM
    guild_id: int | None = None
    recipient: FakeUser | None = None
    overwrites: tuple[FakeOverwrite, ...] = ()

    def payload(self) -> dict[str, Any]:
        """The channel object Discord sends (GET /channels/{id}, GUILD_CREATE)."""
        if self.type == 1:
            recipients = [self.recipient.payload()] if self.recipient else []
            return {
                "id": str(self.id),
                "type": 1,
                "recipients": recipients,
                "last_message_id": None,
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": 0,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }


@dataclass
class FakeMember:
    user: FakeUser
    roles: list[int]
    joined_at: str


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    system_channel_id: int | None = None
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)

    def permissions_of(self, user: FakeUser) -> int:
        """The member's guild-level permissions, resolved the way Discord does (no overwrites)."""
        if user.id == self.owner_id:
            return discord.Permissions.all().value
        value = self.roles[self.id].permissions
        for role_id in self.members[user.id].roles:
            value |= self.roles[role_id].permissions
        if value & discord.Permissions(administrator=True).value:
            return discord.Permissions.all().value
        return value

    def member_payload(
        self, user: FakeUser, *, with_user: bool = True, with_permissions: bool = False
    ) -> dict[str, Any]:
        """The guild member object; in interactions it also carries the resolved `permissions`."""
        try:
            member = self.members[user.id]
        except KeyError:
            raise ValueError(
                f"{user.name} is not a member of {self.name}; add_member first"
            ) from None
        data: dict[str, Any] = {
            "roles": [str(r) for r in member.roles],
            "joined_at": member.joined_at,
            "nick": None,
            "avatar": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
        }
        if with_permissions:
            data["permissions"] = str(self.permissions_of(user))
        if with_user:
            data["user"] = user.payload()
        return data


@dataclass(frozen=True)
class FakeInteraction:
    """What a test needs to follow one injected interaction."""

    id: int
    token: str


@dataclass
class _InteractionState:
    id: int
    type: int
    channel: FakeChannel
    message_id: int | None  # the message a component sat on
    original_id: int | None = None
    acknowledged: bool = False


@dataclass
class _GatewaySession:
    ws: web.WebSocketResponse
    zlib_stream: bool
    id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    compressor: Any = field(default_factory=zlib.compressobj)
    ready: bool = False
    shard: tuple[int, int] = (0, 1)  # (shard id, shard count), from IDENTIFY

    def owns(self, guild_id: int | None) -> bool:
        """Discord's rule: a guild's events go to shard (id >> 22) % count; DMs go to shard 0."""
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else (guild_id >> 22) % count)

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one gateway payload, zlib-stream compressed when the client asked for it."""
        text = json.dumps(payload)
        async with self.lock:
            if self.ws.closed:
                return
            if self.zlib_stream:
                data = self.compressor.compress(text.encode()) + self.compressor.flush(
                    zlib.Z_SYNC_FLUSH
                )
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)


@dataclass
class _RateLimit:
    method: str
    path_prefix: str
    retry_after: float


@dataclass(frozen=True)
class _Body:
    json: Any
    files: tuple[UploadedFile, ...] = ()


_Handler = Callable[[web.Request, _Body], Awaitable[web.StreamResponse]]


class FakeDiscord:
    """Gateway, REST and CDN of a tiny Discord: build guilds, inject events, inspect calls."""

    def __init__(self, *, bot_name: str = "VoiceMood", max_concurrency: int = 16) -> None:
        # Identify buckets /gateway/bot reports; 16, a large bot's, lets a shard group connect at once.
        self.max_concurrency = max_concurrency
        self.identified_at: dict[int, float] = {}  # shard id -> loop time of its IDENTIFY
        self._ids = itertools.count(_snowflake_base())
        self.bot = FakeUser(self.new_id(), bot_name, bot=True)
        self.application_id = self.new_id()
        self.owner = FakeUser(self.new_id(), "app-owner")
        self.guilds: dict[int, FakeGuild] = {}
        self.dm_channels: dict[int, FakeChannel] = {}  # by recipient id
        self.messages: dict[int, dict[str, Any]] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global)
        self.calls: list[Call] = []
        self.gateway_connections: list[GatewayConnection] = []
        self.gateway_received: list[dict[str, Any]] = []
        self._users: dict[int, FakeUser] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self._attachments: dict[int, tuple[bytes, str]] = {}
        self._interactions: dict[str, _InteractionState] = {}
        self._rate_limits: list[_RateLimit] = []
        self._sessions: list[_GatewaySession] = []
        self._session_ids = itertools.count(1)
        self._seq = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base = ""

    # Lifecycle

    async def start(self, host: str = "127.0.0.1") -> None:
        """Listen on 127.0.0.1 (or `host`: a Docker network's gateway) on a free port."""
        app = web.Application(client_max_size=64 * 2**20)
        self._add_routes(app)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((host, 0))
        await web.SockSite(self._runner, sock).start()
        self.base = f"http://{host}:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        """Close open gateway sockets, then the server."""
        for session in list(self._sessions):
            # 4004 is a close discord.py does not retry, so a client left running stops too.
            await session.ws.close(code=4004, message=b"fake discord stopped")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def rest_base(self) -> str:
        """What `discord.http.Route.BASE` must be."""
        return self.base + API

    @property
    def gateway_url(self) -> str:
        """What `DiscordWebSocket.DEFAULT_GATEWAY` must be (also served by GET /gateway)."""
        return self.base.replace("http://", "ws://") + "/gateway/"

    @property
    def resume_gateway_url(self) -> str:
        """Sent in READY; a separate path so tests can see discord.py resume through it."""
        return self.base.replace("http://", "ws://") + "/resume-gateway/"

    # Building the world (before the client connects: GUILD_CREATE is sent at IDENTIFY)

    def new_id(self) -> int:
        """A fresh snowflake, increasing, dated now."""
        return next(self._ids)

    def add_user(self, name: str, *, bot: bool = False) -> FakeUser:
        user = FakeUser(self.new_id(), name, bot=bot)
        self._users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: FakeUser | None = None,
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A guild with an @everyone role; its owner (default: a new user) and the bot are members.

        `shard` (shard id, shard count) picks an id whose events Discord sends to that shard.
        """
        owner = owner or self.add_user(f"{name}-owner")
        guild_id = self.new_id()
        if shard is not None:
            shard_id, count = shard
            while (guild_id >> 22) % count != shard_id:
                guild_id += 1 << 22  # the next millisecond-block of snowflakes
            self._ids = itertools.count(guild_id + 1)
        guild = FakeGuild(guild_id, name, owner.id)
        guild.roles[guild.id] = FakeRole(guild.id, "@everyone", DEFAULT_EVERYONE, 0)
        self.guilds[guild.id] = guild
        self.add_member(guild, owner)
        self.add_member(guild, self.bot)
        return guild

    def add_role(
        self, guild: FakeGuild, name: str, permissions: int | discord.Permissions = 0
    ) -> FakeRole:
        role = FakeRole(self.new_id(), name, _permission_value(permissions), len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_text_channel(
        self, guild: FakeGuild, name: str = "general", *, system: bool = False
    ) -> FakeChannel:
        """A text channel; `system` makes it the guild's system channel (joins, boosts, intros)."""
        channel = FakeChannel(self.new_id(), name, 0, guild_id=guild.id)
        guild.channels[channel.id] = channel
        if system:
            guild.system_channel_id = channel.id
        return channel

    def add_member(
        self, guild: FakeGuild, user: FakeUser, roles: Sequence[FakeRole] = ()
    ) -> FakeMember:
        member = FakeMember(user, [r.id for r in roles], _now())
        guild.members[user.id] = member
        return member

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and `user` (created on first use, like Discord)."""
        if user.id not in self.dm_channels:
            self.dm_channels[user.id] = FakeChannel(self.new_id(), "", 1, recipient=user)
        return self.dm_channels[user.id]

    def add_attachment(
        self,
        data: bytes,
        filename: str,
        content_type: str,
        duration_secs: float | None = None,
    ) -> dict[str, Any]:
        """Serve `data` from the fake CDN; returns the attachment object (voice fields with a duration)."""
        if not self.base:
            raise RuntimeError("start the fake first: attachment URLs point at its address")
        attachment_id = self.new_id()
        self._attachments[attachment_id] = (bytes(data), content_type)
        url = f"{self.base}/attachments/{attachment_id}/{quote(filename)}"
        payload: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "flags": 0,
        }
        if duration_secs is not None:
            payload["duration_secs"] = duration_secs
            payload["waveform"] = base64.b64encode(bytes(range(0, 256, 4))).decode()
        return payload

    # Injecting events

    async def send_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        content: str = "",
        attachments: Sequence[dict[str, Any]] = (),
        flags: int = 0,
        guild: FakeGuild | None = None,
    ) -> dict[str, Any]:
        """A user posts a message: dispatch MESSAGE_CREATE and return the message object."""
        message = self._message(channel, author, content=content, flags=flags, guild=guild)
        message["attachments"] = list(attachments)
        await self._dispatch("MESSAGE_CREATE", message)
        return message

    async def send_voice_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        data: bytes,
        duration_secs: float,
        guild: FakeGuild | None = None,
    ) -> dict[str, Any]:
        """A Discord voice message: flag 8192 and one OGG/Opus attachment with duration and waveform."""
        attachment = self.add_attachment(data, "voice-message.ogg", "audio/ogg", duration_secs)
        return await self.send_message(
            channel, author, attachments=[attachment], flags=IS_VOICE_MESSAGE, guild=guild
        )

    async def react(
        self, channel: FakeChannel, message_id: int | str, user: FakeUser, emoji: str
    ) -> None:
        """A user adds a unicode emoji reaction: dispatch MESSAGE_REACTION_ADD."""
        data: dict[str, Any] = {
            "user_id": str(user.id),
            "channel_id": str(channel.id),
            "message_id": str(message_id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        stored = self.messages.get(int(message_id))
        if stored is not None:
            data["message_author_id"] = stored["author"]["id"]
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            data["member"] = self.guilds[channel.guild_id].member_payload(user)
        await self._dispatch("MESSAGE_REACTION_ADD", data)

    async def unreact(
        self, channel: FakeChannel, message_id: int | str, user: FakeUser, emoji: str
    ) -> None:
        """A user takes a unicode emoji reaction away: dispatch MESSAGE_REACTION_REMOVE.

        As on Discord, the removal names only the user: no member and no message author.
        """
        data: dict[str, Any] = {
            "user_id": str(user.id),
            "channel_id": str(channel.id),
            "message_id": str(message_id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        await self._dispatch("MESSAGE_REACTION_REMOVE", data)

    async def slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        user: FakeUser,
        channel: FakeChannel,
        guild: FakeGuild | None = None,
    ) -> FakeInteraction:
        """A user runs `/name`; option types come from the synced command, else from the values."""
        guild = self._guild_of(channel, guild)
        command = self._find_command(name, guild, kind=1)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        declared = {o["name"]: o["type"] for o in command.get("options", [])}
        resolved: dict[str, dict[str, Any]] = {}
        data["options"] = [
            self._option(key, value, declared.get(key), guild, resolved)
            for key, value in (options or {}).items()
        ]
        if resolved:
            data["resolved"] = resolved
        return await self._interact(2, data, user, channel, guild)

    async def message_command(
        self,
        name: str,
        message: Mapping[str, Any],
        user: FakeUser,
        channel: FakeChannel,
        guild: FakeGuild | None = None,
    ) -> FakeInteraction:
        """A user picks a message context-menu command (Apps → name) on `message`."""
        guild = self._guild_of(channel, guild)
        command = self._find_command(name, guild, kind=3)
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: dict(message)}},
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._interact(2, data, user, channel, guild)

    async def press_button(
        self,
        custom_id: str,
        message: Mapping[str, Any] | int | str,
        user: FakeUser,
        channel: FakeChannel,
        guild: FakeGuild | None = None,
    ) -> FakeInteraction:
        """A user presses a button (`custom_id`) on a message the bot sent."""
        return await self._use_component(custom_id, None, message, user, channel, guild)

    async def select(
        self,
        custom_id: str,
        values: Sequence[str],
        message: Mapping[str, Any] | int | str,
        user: FakeUser,
        channel: FakeChannel,
        guild: FakeGuild | None = None,
    ) -> FakeInteraction:
        """A user picks `values` in a select menu (`custom_id`) on a message the bot sent."""
        return await self._use_component(custom_id, values, message, user, channel, guild)

    async def _use_component(
        self,
        custom_id: str,
        values: Sequence[str] | None,
        message: Mapping[str, Any] | int | str,
        user: FakeUser,
        channel: FakeChannel,
        guild: FakeGuild | None,
    ) -> FakeInteraction:
        guild = self._guild_of(channel, guild)
        message_id = int(message["id"] if isinstance(message, Mapping) else message)
        stored = self.messages.get(message_id)
        if stored is None:
            raise KeyError(f"message {message_id} is unknown to the fake")
        component_type = _component_type(stored.get("components", []), custom_id)
        if component_type is None:
            raise KeyError(f"message {message_id} has no component {custom_id!r}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        return await self._interact(3, data, user, channel, guild, message=stored)

    async def join_guild(self, guild: FakeGuild) -> None:
        """The bot is added to `guild` while connected: GUILD_CREATE, which is on_guild_join."""
        payload = self._guild_payload(guild)
        # A joined guild's GUILD_CREATE has no `unavailable` (False would mean "back from an outage").
        del payload["unavailable"]
        await self._dispatch("GUILD_CREATE", payload)

    async def set_channel_permissions(
        self,
        channel: FakeChannel,
        target: FakeRole | FakeUser,
        *,
        allow: int | discord.Permissions = 0,
        deny: int | discord.Permissions = 0,
    ) -> FakeChannel:
        """Overwrite `target`'s permissions in a guild channel; connected clients get CHANNEL_UPDATE.

        Returns the updated channel (FakeChannel is frozen; the guild holds the new one).
        """
        kind = 0 if isinstance(target, FakeRole) else 1
        overwrite = FakeOverwrite(
            target.id, kind, _permission_value(allow), _permission_value(deny)
        )
        kept = tuple(o for o in channel.overwrites if o.id != target.id)
        updated = replace(channel, overwrites=(*kept, overwrite))
        self._guild_of_channel(channel).channels[channel.id] = updated
        await self._tell_connected("CHANNEL_UPDATE", updated.payload())
        return updated

    async def delete_channel(self, channel: FakeChannel) -> None:
        """Delete a guild channel; connected clients get CHANNEL_DELETE, later ones never see it."""
        del self._guild_of_channel(channel).channels[channel.id]
        await self._tell_connected("CHANNEL_DELETE", channel.payload())

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py must come back through `resume_gateway_url` and RESUME."""
        for session in self._ready_sessions():
            session.ready = False  # events wait for the resumed session instead of this closing one
            await session.send({"op": 7, "d": None})

    # Fault injection

    def rate_limit_next(self, method: str, path_prefix: str, retry_after: float = 0.05) -> None:
        """Answer the next matching request with 429 and `retry_after` (discord.py waits and retries)."""
        self._rate_limits.append(_RateLimit(method.upper(), path_prefix, retry_after))

    # Observing

    def calls_to(self, method: str, path_prefix: str = "") -> list[Call]:
        """Recorded calls with this method whose path starts with `path_prefix`."""
        return [
            c for c in self.calls if c.method == method.upper() and c.path.startswith(path_prefix)
        ]

    # Waits take a timeout (ruff's ASYNC109) so a missing call fails the test in seconds, in one line.
    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 10,  # noqa: ASYNC109
    ) -> Call:
        """The first recorded call matching `predicate`, waiting for it if needed."""
        found: list[Call] = []

        def matched() -> bool:
            found[:] = [c for c in self.calls if predicate(c)][:1]
            return bool(found)

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(matched)
        return found[0]

    async def wait_for_call(
        self,
        method: str,
        path_prefix: str = "",
        timeout: float = 10,  # noqa: ASYNC109
    ) -> Call:
        """The first call with this method and path prefix."""
        return await self.wait_for(
            lambda c: c.method == method.upper() and c.path.startswith(path_prefix), timeout
        )

    async def wait_until_connected(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Until a client has IDENTIFYed and received READY and its guilds."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: bool(self._ready_sessions()))

    def command_names(self, guild: FakeGuild | None = None) -> list[str]:
        """Names of the application commands the bot last synced (globally or to `guild`)."""
        return [c["name"] for c in self.commands.get(guild.id if guild else None, [])]

    def attachment_bytes(self, attachment: Mapping[str, Any]) -> bytes:
        """The bytes behind an attachment object (one the test added or the bot uploaded)."""
        return self._attachments[int(attachment["id"])][0]

    # Internals: building payloads

    def _guild_of_channel(self, channel: FakeChannel) -> FakeGuild:
        if channel.guild_id is None or channel.id not in self.guilds[channel.guild_id].channels:
            raise ValueError(f"channel {channel.name!r} is not a channel of a guild")
        return self.guilds[channel.guild_id]

    def _guild_of(self, channel: FakeChannel, guild: FakeGuild | None) -> FakeGuild | None:
        if guild is not None and guild.id != channel.guild_id:
            raise ValueError(f"channel {channel.name!r} is not in guild {guild.name!r}")
        return self.guilds[channel.guild_id] if channel.guild_id is not None else None

    def _message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        *,
        content: str = "",
        flags: int = 0,
        guild: FakeGuild | None = None,
    ) -> dict[str, Any]:
        guild = self._guild_of(channel, guild)
        message: dict[str, Any] = {
            "id": str(self.new_id()),
            "channel_id": str(channel.id),
            "type": 0,
            "content": content,
            "author": author.payload(),
            "attachments": [],
            "embeds": [],
            "components": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": _now(),
            "edited_timestamp": None,
            "flags": flags,
        }
        if guild is not None:
            message["guild_id"] = str(guild.id)
            message["member"] = guild.member_payload(author, with_user=False)
        self.messages[int(message["id"])] = message
        return message

    def _find_command(self, name: str, guild: FakeGuild | None, kind: int) -> dict[str, Any]:
        scopes = ([guild.id] if guild else []) + [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == kind:
                    return command
        # Not synced: discord.py's tree still resolves by name (a guild id falls back to global).
        unsynced: dict[str, Any] = {"id": str(self.new_id()), "name": name, "type": kind}
        if guild is not None:
            unsynced["guild_id"] = str(guild.id)
        return unsynced

    def _option(
        self,
        name: str,
        value: Any,
        declared: int | None,
        guild: FakeGuild | None,
        resolved: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        kind = declared or _option_type(value)
        if kind == 11:
            resolved.setdefault("attachments", {})[value["id"]] = dict(value)
            value = value["id"]
        elif kind == 6:
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            if guild is not None and value.id in guild.members:
                member = guild.member_payload(value, with_user=False, with_permissions=True)
                resolved.setdefault("members", {})[str(value.id)] = member
            value = str(value.id)
        elif kind == 7:
            channel = value.payload() | {"permissions": str(discord.Permissions.all().value)}
            resolved.setdefault("channels", {})[str(value.id)] = channel
            value = str(value.id)
        elif kind == 8:
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            value = str(value.id)
        return {"name": name, "type": kind, "value": value}

    async def _interact(
        self,
        kind: int,
        data: dict[str, Any],
        user: FakeUser,
        channel: FakeChannel,
        guild: FakeGuild | None,
        *,
        message: dict[str, Any] | None = None,
    ) -> FakeInteraction:
        interaction_id = self.new_id()
        token = f"interaction-token-{interaction_id}"
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id) if guild else "0"},
            "attachment_size_limit": 10 * 2**20,
            "app_permissions": str(discord.Permissions.all().value),
        }
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild_locale"] = "en-US"
            payload["member"] = guild.member_payload(user, with_permissions=True)
            payload["context"] = 0
        else:
            payload["user"] = user.payload()
            payload["context"] = 1
        if message is not None:
            payload["message"] = message
        self._interactions[token] = _InteractionState(
            interaction_id, kind, channel, int(message["id"]) if message else None
        )
        await self._dispatch("INTERACTION_CREATE", payload)
        return FakeInteraction(interaction_id, token)

    # Internals: gateway

    def _ready_sessions(
        self, guild_id: int | None = None, *, any_shard: bool = True
    ) -> list[_GatewaySession]:
        """Open, ready sessions; with `any_shard` False, only those of the shard owning `guild_id`."""
        return [
            s
            for s in self._sessions
            if s.ready and not s.ws.closed and (any_shard or s.owns(guild_id))
        ]

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to the session of the shard it belongs to, waiting for one to be ready."""
        guild_id = _guild_of_event(event, data)
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(
                lambda: bool(self._ready_sessions(guild_id, any_shard=False))
            )
        for session in self._ready_sessions(guild_id, any_shard=False):
            await self._send_event(session, event, data)

    async def _tell_connected(self, event: str, data: dict[str, Any]) -> None:
        # Unlike _dispatch, never waits: a client that connects later reads the change in GUILD_CREATE.
        for session in self._ready_sessions(_guild_of_event(event, data), any_shard=False):
            await self._send_event(session, event, data)

    async def _send_event(self, session: _GatewaySession, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        await session.send({"op": 0, "t": event, "s": self._seq, "d": data})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.gateway_connections.append(GatewayConnection(request.path, dict(request.query)))
        # Supported: zlib-stream (what discord.py asks for without zstd); anything else gets text frames,
        # which discord.py reads uncompressed.
        zlib_stream = request.query.get("compress") == "zlib-stream"
        session = _GatewaySession(ws, zlib_stream, f"fake-session-{next(self._session_ids)}")
        self._sessions.append(session)
        try:
            await session.send(
                {"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake"]}}
            )
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_gateway_payload(session, json.loads(msg.data))
        finally:
            self._sessions.remove(session)
            async with self._changed:
                self._changed.notify_all()
        return ws

    async def _on_gateway_payload(self, session: _GatewaySession, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        if op != 1:
            self.gateway_received.append(payload)
        if op == 1:
            await session.send({"op": 11})
        elif op == 2:
            await self._identify(session, payload["d"])
        elif op == 6:
            await self._send_event(session, "RESUMED", {"_trace": ["fake"]})
            await self._mark_ready(session)
        elif op == 8:
            await self._send_member_chunk(session, payload["d"])

    async def _identify(self, session: _GatewaySession, identify: dict[str, Any]) -> None:
        shard_id, count = identify.get("shard", [0, 1])
        session.shard = (int(shard_id), int(count))
        self.identified_at[session.shard[0]] = asyncio.get_running_loop().time()
        guilds = [g for g in self.guilds.values() if session.owns(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "_trace": ["fake"],
            "shard": identify.get("shard", [0, 1]),
        }
        await self._send_event(session, "READY", ready)
        for guild in guilds:
            await self._send_event(session, "GUILD_CREATE", self._guild_payload(guild))
        await self._mark_ready(session)

    async def _mark_ready(self, session: _GatewaySession) -> None:
        session.ready = True
        async with self._changed:
            self._changed.notify_all()

    async def _send_member_chunk(self, session: _GatewaySession, request: dict[str, Any]) -> None:
        guild = self.guilds[int(request["guild_id"])]
        query = (request.get("query") or "").lower()
        wanted = {int(i) for i in request.get("user_ids") or ()}
        members = [
            guild.member_payload(m.user)
            for m in guild.members.values()
            if m.user.name.lower().startswith(query) and (not wanted or m.user.id in wanted)
        ][: request.get("limit") or None]
        chunk = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if "nonce" in request:
            chunk["nonce"] = request["nonce"]
        await self._send_event(session, "GUILD_MEMBERS_CHUNK", chunk)

    def _guild_payload(self, guild: FakeGuild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "owner_id": str(guild.owner_id),
            "unavailable": False,
            "member_count": len(guild.members),
            "large": False,
            "joined_at": guild.members[self.bot.id].joined_at,
            "icon": None,
            "features": [],
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_id": str(guild.system_channel_id) if guild.system_channel_id else None,
            "system_channel_flags": 0,
            "roles": [r.payload() for r in guild.roles.values()],
            "channels": [c.payload() for c in guild.channels.values()],
            "members": [guild.member_payload(m.user) for m in guild.members.values()],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "emojis": [],
            "stickers": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # Internals: REST

    def _add_routes(self, app: web.Application) -> None:
        get, post, put, patch, delete = "GET", "POST", "PUT", "PATCH", "DELETE"
        routes: list[tuple[str, str, _Handler]] = [
            (get, "/gateway", self._get_gateway),
            (get, "/gateway/bot", self._get_gateway),
            (get, "/users/@me", self._get_me),
            (get, "/users/{user_id}", self._get_user),
            (get, "/oauth2/applications/@me", self._get_application),
            (post, "/users/@me/channels", self._create_dm),
            (get, "/channels/{channel_id}", self._get_channel),
            (get, "/channels/{channel_id}/messages", self._get_history),
            (post, "/channels/{channel_id}/messages", self._create_message),
            (get, "/channels/{channel_id}/messages/{message_id}", self._get_message),
            (patch, "/channels/{channel_id}/messages/{message_id}", self._edit_message),
            (delete, "/channels/{channel_id}/messages/{message_id}", self._no_content),
            (post, "/channels/{channel_id}/typing", self._no_content),
            (
                put,
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._no_content,
            ),
            (
                delete,
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._no_content,
            ),
            (get, "/guilds/{guild_id}/members/{user_id}", self._get_member),
            (get, "/applications/{app_id}/commands", self._get_commands),
            (put, "/applications/{app_id}/commands", self._put_commands),
            (get, "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands),
            (put, "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands),
            (post, "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
            (post, "/webhooks/{app_id}/{token}", self._followup),
            (get, "/webhooks/{app_id}/{token}/messages/{message_id}", self._get_webhook_message),
            (patch, "/webhooks/{app_id}/{token}/messages/{message_id}", self._edit_webhook_message),
            (delete, "/webhooks/{app_id}/{token}/messages/{message_id}", self._no_content),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API + path, self._api(handler))
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_get("/resume-gateway/", self._gateway)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._download)
        app.router.add_route("*", API + "/{tail:.*}", self._api(self._not_found))

    def _api(self, handler: _Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap a REST handler: parse the body, apply an injected 429, record the call."""

        async def handle(request: web.Request) -> web.StreamResponse:
            body = await _read_body(request)
            path = request.path[len(API) :]
            limit = next(
                (
                    r
                    for r in self._rate_limits
                    if r.method == request.method and path.startswith(r.path_prefix)
                ),
                None,
            )
            if limit is not None:
                self._rate_limits.remove(limit)
                response: web.StreamResponse = _rate_limited(limit.retry_after)
            else:
                response = await handler(request, body)
            auth = request.headers.get("Authorization", "")
            call = Call(
                method=request.method,
                path=path,
                query=dict(request.query),
                json=body.json,
                files=body.files,
                status=response.status,
                token=auth.removeprefix("Bot ") if auth else None,
            )
            async with self._changed:
                self.calls.append(call)
                self._changed.notify_all()
            return response

        return handle

    async def _get_gateway(self, request: web.Request, body: _Body) -> web.Response:
        limit = {
            "total": 1000,
            "remaining": 999,
            "reset_after": 0,
            "max_concurrency": self.max_concurrency,
        }
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_me(self, request: web.Request, body: _Body) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bot "):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json(self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0})

    async def _get_user(self, request: web.Request, body: _Body) -> web.Response:
        user = self._users.get(int(request.match_info["user_id"]))
        if user is None:
            return _unknown("User", 10013)
        return _json(user.payload())

    async def _get_application(self, request: web.Request, body: _Body) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": self.bot.name,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.owner.payload(),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "approximate_guild_count": len(self.guilds),
            }
        )

    async def _create_dm(self, request: web.Request, body: _Body) -> web.Response:
        user = self._users.get(int(body.json["recipient_id"]))
        if user is None:
            return _unknown("User", 10013)
        return _json(self.dm_channel(user).payload())

    async def _get_channel(self, request: web.Request, body: _Body) -> web.Response:
        channel = self._channel(request.match_info["channel_id"])
        return _json(channel.payload()) if channel else _unknown("Channel", 10003)

    async def _get_history(self, request: web.Request, body: _Body) -> web.Response:
        channel_id = request.match_info["channel_id"]
        before = int(request.query.get("before", 1 << 63))
        after = int(request.query.get("after", 0))
        limit = int(request.query.get("limit", 50))
        found = [
            m
            for i, m in sorted(self.messages.items(), reverse=True)
            if m["channel_id"] == channel_id and after < i < before
        ]
        return _json(found[:limit])

    async def _create_message(self, request: web.Request, body: _Body) -> web.Response:
        channel = self._channel(request.match_info["channel_id"])
        if channel is None:
            return _unknown("Channel", 10003)
        message = self._message(channel, self.bot)
        self._apply_message_edit(message, body.json or {}, body.files)
        reference = message.get("message_reference")
        if reference:
            message["type"] = 19
            referenced = self.messages.get(int(reference["message_id"]))
            if referenced is not None:
                message["referenced_message"] = referenced
        return _json(message)

    async def _get_message(self, request: web.Request, body: _Body) -> web.Response:
        message = self.messages.get(int(request.match_info["message_id"]))
        return _json(message) if message else _unknown("Message", 10008)

    async def _edit_message(self, request: web.Request, body: _Body) -> web.Response:
        message = self.messages.get(int(request.match_info["message_id"]))
        if message is None:
            return _unknown("Message", 10008)
        self._apply_message_edit(message, body.json or {}, body.files)
        message["edited_timestamp"] = _now()
        return _json(message)

    async def _no_content(self, request: web.Request, body: _Body) -> web.Response:
        return web.Response(status=204)

    async def _get_member(self, request: web.Request, body: _Body) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild_id"]))
        user = self._users.get(int(request.match_info["user_id"]))
        if guild is None or user is None or user.id not in guild.members:
            return _unknown("Member", 10007)
        return _json(guild.member_payload(user))

    async def _get_commands(self, request: web.Request, body: _Body) -> web.Response:
        scope = request.match_info.get("guild_id")
        return _json(self.commands.get(int(scope) if scope else None, []))

    async def _put_commands(self, request: web.Request, body: _Body) -> web.Response:
        scope = request.match_info.get("guild_id")
        guild_id = int(scope) if scope else None
        previous = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(guild_id, [])}
        commands = []
        for command in body.json:
            key = (command["name"], command.get("type", 1))
            stored = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
            }
            stored |= command
            stored |= {
                "id": previous.get(key) or str(self.new_id()),
                "application_id": str(self.application_id),
                "version": str(self.new_id()),
            }
            if guild_id is not None:
                stored["guild_id"] = str(guild_id)
            commands.append(stored)
        self.commands[guild_id] = commands
        return _json(commands)

    async def _interaction_callback(self, request: web.Request, body: _Body) -> web.Response:
        state = self._interactions.get(request.match_info["token"])
        if state is None or str(state.id) != request.match_info["interaction_id"]:
            return _unknown("Interaction", 10062)
        if state.acknowledged:
            # Like Discord: a second initial response is a bug in the bot, so make it loud.
            error = {"message": "Interaction has already been acknowledged.", "code": 40060}
            return _json(error, status=400)
        state.acknowledged = True
        payload = body.json or {}
        kind, data = payload.get("type"), payload.get("data") or {}
        interaction: dict[str, Any] = {"id": str(state.id), "type": state.type}
        result: dict[str, Any] = {"interaction": interaction}
        if kind in (4, 5):
            flags = int(data.get("flags", 0)) | (LOADING if kind == 5 else 0)
            message = self._message(state.channel, self.bot, flags=flags)
            self._apply_message_edit(
                message, {k: v for k, v in data.items() if k != "flags"}, body.files
            )
            self._as_webhook_message(message, state)
            state.original_id = int(message["id"])
            interaction |= {
                "response_message_id": message["id"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
            result["resource"] = {"type": kind, "message": message}
        elif kind == 7 and state.message_id is not None:
            message = self.messages[state.message_id]
            self._apply_message_edit(message, data, body.files)
            message["edited_timestamp"] = _now()
            result["resource"] = {"type": kind, "message": message}
        elif kind == 6 and state.message_id is not None:
            state.original_id = state.message_id
        return _json(result)

    async def _followup(self, request: web.Request, body: _Body) -> web.Response:
        state = self._interactions.get(request.match_info["token"])
        if state is None:
            return _unknown("Webhook", 10015)
        payload = dict(body.json or {})
        message = self._message(state.channel, self.bot, flags=int(payload.pop("flags", 0)))
        self._apply_message_edit(message, payload, body.files)
        self._as_webhook_message(message, state)
        return _json(message)

    async def _get_webhook_message(self, request: web.Request, body: _Body) -> web.Response:
        message = self._webhook_message(request)
        return _json(message) if message else _unknown("Message", 10008)

    async def _edit_webhook_message(self, request: web.Request, body: _Body) -> web.Response:
        message = self._webhook_message(request)
        if message is None:
            return _unknown("Message", 10008)
        self._apply_message_edit(message, body.json or {}, body.files)
        message["flags"] = int(message["flags"]) & ~LOADING
        message["edited_timestamp"] = _now()
        return _json(message)

    async def _download(self, request: web.Request) -> web.Response:
        found = self._attachments.get(int(request.match_info["attachment_id"]))
        if found is None:
            return web.Response(status=404, text="asset not found")
        data, content_type = found
        return web.Response(body=data, headers={"Content-Type": content_type})

    async def _not_found(self, request: web.Request, body: _Body) -> web.Response:
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _channel(self, channel_id: str) -> FakeChannel | None:
        wanted = int(channel_id)
        for guild in self.guilds.values():
            if wanted in guild.channels:
                return guild.channels[wanted]
        return next((c for c in self.dm_channels.values() if c.id == wanted), None)

    def _webhook_message(self, request: web.Request) -> dict[str, Any] | None:
        state = self._interactions.get(request.match_info["token"])
        if state is None:
            return None
        wanted = request.match_info["message_id"]
        message_id = state.original_id if wanted == "@original" else int(wanted)
        return self.messages.get(message_id) if message_id is not None else None

    def _as_webhook_message(self, message: dict[str, Any], state: _InteractionState) -> None:
        # Interaction replies are webhook messages of the application (discord.py skips caching the author).
        message["webhook_id"] = str(self.application_id)
        message["application_id"] = str(self.application_id)
        message["interaction_metadata"] = {
            "id": str(state.id),
            "type": state.type,
            "user": self.bot.payload(),
            "authorizing_integration_owners": {},
        }
        message.pop("member", None)

    def _apply_message_edit(
        self, message: dict[str, Any], body: Mapping[str, Any], files: Sequence[UploadedFile]
    ) -> None:
        for key in ("content", "embeds", "components", "message_reference", "flags", "tts"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        if "attachments" in body:
            message["attachments"] = self._attachments_of(message, body["attachments"], files)
        elif files:
            message["attachments"] = [
                self.add_attachment(f.data, f.filename, f.content_type) for f in files
            ]

    def _attachments_of(
        self,
        message: Mapping[str, Any],
        wanted: Sequence[Mapping[str, Any]],
        files: Sequence[UploadedFile],
    ) -> list[dict[str, Any]]:
        # Entries naming an existing attachment keep it; the others point at files[id] of this upload.
        existing = {a["id"]: a for a in message.get("attachments", [])}
        by_field = {f.field: f for f in files}
        kept = []
        for entry in wanted:
            if str(entry["id"]) in existing:
                kept.append(existing[str(entry["id"])])
                continue
            upload = by_field.get(f"files[{entry['id']}]")
            if upload is None:
                continue
            attachment = self.add_attachment(upload.data, upload.filename, upload.content_type)
            if entry.get("description"):
                attachment["description"] = entry["description"]
            kept.append(attachment)
        return kept


@contextlib.contextmanager
def discord_py_pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and gateway at `fake`, restoring both class attributes after."""
    route_base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.rest_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = route_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


@contextlib.asynccontextmanager
async def running_client(
    client: ClientT,
    token: str = FAKE_TOKEN,
    timeout: float = 10,  # noqa: ASYNC109 - bounds the wait for READY, not the block
) -> AsyncIterator[ClientT]:
    """Log in, connect in a task and wait for on_ready; close the client and await the task after."""
    await client.login(token)
    connection = asyncio.create_task(client.connect())
    try:
        ready = asyncio.ensure_future(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, connection}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if connection in done:
                connection.result()  # raises why connect() ended
            raise TimeoutError(f"discord.py was not ready within {timeout} s")
        yield client
    finally:
        await client.close()
        await connection


async def _read_body(request: web.Request) -> _Body:
    if request.content_type == "application/json":
        return _Body(await request.json())
    if request.content_type != "multipart/form-data":
        return _Body(None)
    payload: Any = None
    files = []
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            continue  # nested multipart: discord.py never sends one
        if part.name == "payload_json":
            payload = json.loads(await part.text())
        else:
            data = bytes(await part.read())
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            files.append(UploadedFile(part.name or "", part.filename or "", content_type, data))
    return _Body(payload, tuple(files))


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py's json_or_text compares the whole header.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _unknown(what: str, code: int) -> web.Response:
    return _json({"message": f"Unknown {what}", "code": code}, status=404)


def _rate_limited(retry_after: float) -> web.Response:
    # discord.py only honours a 429 that came through Discord's proxy (a Via header), else it raises.
    response = _json(
        {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
        status=429,
    )
    response.headers["Via"] = "1.1 google"
    response.headers["Retry-After"] = str(retry_after)
    response.headers["X-RateLimit-Scope"] = "user"
    return response


def _component_type(rows: Sequence[Mapping[str, Any]], custom_id: str) -> int | None:
    for row in rows:
        if row.get("custom_id") == custom_id:
            return int(row["type"])
        found = _component_type(row.get("components", []), custom_id)
        if found is not None:
            return found
    return None


def _option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, FakeUser):
        return 6
    if isinstance(value, FakeChannel):
        return 7
    if isinstance(value, FakeRole):
        return 8
    if isinstance(value, Mapping) and "url" in value:
        return 11
    return 3


def _permission_value(permissions: int | discord.Permissions) -> int:
    return permissions.value if isinstance(permissions, discord.Permissions) else permissions


def _snowflake_base() -> int:
    return (int(time.time() * 1000) - _DISCORD_EPOCH_MS) << 22


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _guild_of_event(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event belongs to (None: a DM), which decides the shard it is sent to."""
    if event.startswith("GUILD_") and "guild_id" not in data:
        return int(data["id"])
    guild_id = data.get("guild_id")
    return int(guild_id) if guild_id is not None else None

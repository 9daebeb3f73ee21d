"""Starting the Discord bot: the client, one Cog per feature, the persistent buttons.

discord.py 2.x does the platform work: the gateway and its heartbeat, 429 retries, app commands
and persistent buttons. The features live in their cogs: `notes` (voice messages), `feedback`
(button presses and reactions), `commands` (slash commands from the one table, the server
intro) and `digests` (the daily digest loop).

Sharding: with `shard_count`, the client is discord.py's AutoShardedBot running `shard_ids` (all
shards when not given) of that many. Several processes may each run a group of shards over one
database: Discord sends each server's events to one shard only, and each process posts the
digests of the servers it owns (DMs belong to shard 0's process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands

from bots.core.service import VoiceMoodService
from bots.core.values import Where
from bots.discord.commands import CommandsCog, HelpTranslator
from bots.discord.digests import DigestsCog
from bots.discord.feedback import FeedbackCog
from bots.discord.inflight import InFlight
from bots.discord.notes import NotesCog
from bots.discord.render import ServiceButton

log = logging.getLogger(__name__)

# Discord allows one IDENTIFY per rate-limit bucket in this window.
_IDENTIFY_WINDOW_S = 5.0


@dataclass
class DiscordHandle:
    """A running Discord client: `stop()` drains in-flight notes, disconnects, undoes the URLs."""

    client: VoiceMoodBot
    task: asyncio.Task[None]
    _restore: Callable[[], None] = field(default=lambda: None, repr=False)

    async def stop(self, drain_s: float = 10.0) -> None:
        """Let notes being analysed get their answer (up to `drain_s`), then close the client."""
        await self.client.in_flight.drain(drain_s)
        await self.client.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await self.task
        self._restore()

    async def wait(self) -> None:
        """Until the connection ends; raises why it ended (e.g. discord.LoginFailure)."""
        await self.task


async def start_discord(
    service: VoiceMoodService,
    token: str,
    *,
    api_base: str | None = None,
    gateway: str | None = None,
    ready_timeout_s: float = 60.0,
    guild_ready_timeout: float = 2.0,
    shard_count: int | None = None,
    shard_ids: Sequence[int] | None = None,
) -> DiscordHandle:
    """Log in, connect in a task and return once the bot is ready (commands synced).

    `api_base` and `gateway` replace discord.py's REST base URL and gateway URL (class-wide, until
    `stop()`); a bad token raises discord.LoginFailure here. `shard_count` (with this process's
    `shard_ids`, default all) runs the sharded client.
    """
    restore = _point_discord_py_at(api_base, gateway)
    client = build_client(
        service,
        guild_ready_timeout=guild_ready_timeout,
        shard_count=shard_count,
        shard_ids=shard_ids,
    )
    task: asyncio.Task[None] | None = None
    try:
        await client.login(token)
        task = asyncio.create_task(client.connect(), name="discord")
        ready = asyncio.ensure_future(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, task}, timeout=ready_timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()  # raises why the connection ended
            raise TimeoutError(f"Discord was not ready within {ready_timeout_s} s")
    except BaseException:
        await client.close()
        if task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
        restore()
        raise
    return DiscordHandle(client, task, restore)


async def run_discord(service: VoiceMoodService, token: str, **options: Any) -> None:
    """Serve until cancelled or disconnected for good (options as for start_discord)."""
    handle = await start_discord(service, token, **options)
    try:
        await handle.wait()
    finally:
        await handle.stop()


def build_client(
    service: VoiceMoodService,
    *,
    shard_count: int | None = None,
    shard_ids: Sequence[int] | None = None,
    **options: Any,
) -> VoiceMoodBot:
    """The bot with VoiceMood's listeners, slash commands and buttons (options go to discord.py).

    With `shard_count`, the sharded client runs `shard_ids` (default: all of them).
    """
    if shard_count is None:
        if shard_ids:
            raise ValueError("shard ids need a shard count")
        return VoiceMoodBot(service, **options)
    ids = list(range(shard_count)) if shard_ids is None else sorted(set(shard_ids))
    if not ids or not all(0 <= i < shard_count for i in ids):
        raise ValueError(
            f"shard ids must be among 0..{shard_count - 1}, not {list(shard_ids or [])}"
        )
    return ShardedVoiceMoodBot(service, shard_count=shard_count, shard_ids=ids, **options)


class VoiceMoodBot(commands.Bot):
    """A commands.Bot that serves slash commands only (no prefix commands are parsed)."""

    def __init__(self, service: VoiceMoodService, **options: Any) -> None:
        intents = discord.Intents.default()
        # Attachments of server messages are message content: the privileged intent is needed.
        intents.message_content = True
        # VoiceMood reads voice *messages*, never joins voice channels: no voice-library warnings.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            tree_cls=_Tree,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.service = service
        self.in_flight = InFlight()
        self.digests = DigestsCog(self, service, self.owns)

    async def setup_hook(self) -> None:
        """Load one cog per feature and the button router, then sync the command tree."""
        await self.add_cog(NotesCog(self, self.service, self.in_flight))
        await self.add_cog(FeedbackCog(self, self.service, self.in_flight))
        await self.add_cog(CommandsCog(self, self.service, self.in_flight))
        await self.add_cog(self.digests)
        self.add_dynamic_items(ServiceButton)
        await self.tree.set_translator(HelpTranslator())
        try:
            await self.tree.sync()
        except discord.HTTPException:
            log.warning(
                "syncing the slash commands failed; the last synced ones stay", exc_info=True
            )

    async def on_message(self, message: discord.Message, /) -> None:
        """Slash commands only: NotesCog's listener handles voice notes."""

    def owns(self, where: Where) -> bool:
        """Whether this process receives the chat's events (always, unless sharded)."""
        return True


class ShardedVoiceMoodBot(VoiceMoodBot, commands.AutoShardedBot):
    """The same bot over a group of shards (`shard_ids` of `shard_count`), one connection each."""

    def __init__(self, service: VoiceMoodService, **options: Any) -> None:
        super().__init__(service, **options)
        self._max_concurrency: int | None = None
        self._identified: dict[int, float] = {}  # rate-limit bucket -> when it last identified

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Pause only as Discord requires: one IDENTIFY per bucket (shard id % max_concurrency)
        per 5 s. discord.py's own hook pauses 5 s before every shard but the first, which starts
        a large bot's shard group (max_concurrency 16 and more) 16 times slower than it may."""
        if self._max_concurrency is None:
            try:
                self._max_concurrency = max(
                    1, (await self.fetch_session_start_limits()).max_concurrency
                )
            except discord.HTTPException:
                self._max_concurrency = 1
        loop = asyncio.get_running_loop()
        bucket = (shard_id or 0) % self._max_concurrency
        last = self._identified.get(bucket)
        if last is not None:
            await asyncio.sleep(max(0.0, last + _IDENTIFY_WINDOW_S - loop.time()))
        self._identified[bucket] = loop.time()

    def owns(self, where: Where) -> bool:
        """A server belongs to shard (id >> 22) % count, a DM to shard 0 (Discord's rule)."""
        count = self.shard_count or 1
        shard = (int(where.chat_id) >> 22) % count if where.is_group else 0
        return shard in (self.shard_ids or range(count))


class _Tree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        """Log and carry on: one failed command must not take the bot down."""
        command = interaction.command.name if interaction.command else "?"
        log.error("slash command /%s failed", command, exc_info=error)


def _point_discord_py_at(api_base: str | None, gateway: str | None) -> Callable[[], None]:
    """Set discord.py's REST base and gateway URLs when given; returns how to undo it."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return restore

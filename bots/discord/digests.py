"""Daily digests on Discord: a tasks.loop asks the service which are due and posts them.

When a digest is due is the service's rule (bots.core.digests), the same as on Telegram; this
module only finds the channel it belongs in and whether the bot may post a chart there.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import discord
from discord.ext import commands, tasks

from bots.core.digests import DueDigest
from bots.core.service import VoiceMoodService
from bots.core.values import Where
from bots.discord.chat import PLATFORM, home_channel
from bots.discord.render import message_parts

log = logging.getLogger(__name__)


class DigestsCog(commands.Cog):
    def __init__(
        self,
        bot: commands.Bot,
        service: VoiceMoodService,
        owns: Callable[[Where], bool] | None = None,
    ) -> None:
        """`owns`: the chats whose digests this process posts (a shard group's); None: all."""
        self.bot, self.service, self.owns = bot, service, owns

    async def cog_load(self) -> None:
        self._digest_clock.start()

    async def cog_unload(self) -> None:
        self._digest_clock.cancel()

    @tasks.loop(seconds=30)
    async def _digest_clock(self) -> None:
        try:
            await self.post_due_digests(datetime.now(UTC))
        except Exception:  # a failing tick must not stop the loop for good
            log.exception("posting daily digests failed")

    async def post_due_digests(self, now: datetime) -> int:
        """Post the digest of each Discord chat the service says is due at `now`; how many.

        A chat whose digest cannot be posted is logged and skipped; the others still get theirs.
        """
        posted = 0
        for due in await self.service.due_digests(PLATFORM, now, self.owns):
            try:
                posted += await self._post_digest(due)
            except Exception:
                log.exception("posting the daily digest of chat %s failed", due.chat_id)
        return posted

    async def _post_digest(self, due: DueDigest) -> bool:
        """Post one chat's digest where it belongs; False when there is nothing or nowhere to post."""
        channel = await self._digest_channel(due)
        if channel is None:
            return False
        reply = await self.service.digest(due)
        if reply is None:
            return False
        try:
            await channel.send(**message_parts(reply))
        except discord.HTTPException as error:
            # Status and Discord's error code only: the response text is not ours to log.
            log.warning(
                "the digest of chat %s was refused (HTTP %s, code %s); skipped today",
                due.chat_id,
                error.status,
                error.code,
            )
            return False
        return True

    async def _digest_channel(self, due: DueDigest) -> discord.abc.Messageable | None:
        """Where a chat's digest goes: in a server, the channel /digest was switched on in.

        Consent, and so the chat, is per server, so the channel is a setting of the server's chat;
        settings older than that setting use the server's home channel (where the intro went).
        """
        chat_id, where = due.chat_id, due.where
        if not where.is_group:
            return await self._dm_channel(int(where.chat_id))
        guild = self.bot.get_guild(int(where.chat_id))
        if guild is None:
            log.info("digest of chat %s skipped: the bot is not in its server", chat_id)
            return None
        if where.channel_id is None:
            home = home_channel(guild)
            if home is None:
                log.warning("digest of chat %s skipped: no channel to write in", chat_id)
            return home
        channel = guild.get_channel_or_thread(int(where.channel_id))
        if channel is None or not isinstance(channel, discord.abc.Messageable):
            # Not moved elsewhere: the people who asked for it read that channel, not another.
            log.warning(
                "digest of chat %s skipped: its channel %s is gone", chat_id, where.channel_id
            )
            return None
        if not may_post_chart(channel, guild.me):
            log.warning(
                "digest of chat %s skipped: may not post a chart in channel %s",
                chat_id,
                where.channel_id,
            )
            return None
        return channel

    async def _dm_channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            with contextlib.suppress(discord.HTTPException):
                channel = await self.bot.fetch_channel(channel_id)
        return channel if isinstance(channel, discord.abc.Messageable) else None


def may_post_chart(channel: discord.abc.GuildChannel | discord.Thread, me: discord.Member) -> bool:
    """Whether the bot may post a message with a file here (threads have their own send right)."""
    allowed = channel.permissions_for(me)
    may_send = (
        allowed.send_messages_in_threads
        if isinstance(channel, discord.Thread)
        else allowed.send_messages
    )
    return may_send and allowed.attach_files

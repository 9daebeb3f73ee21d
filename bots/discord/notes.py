"""Voice messages, audio and video attachments on Discord: ask the service, reply to the message."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord.ext import commands

from bots.core.service import VoiceMoodService
from bots.core.values import Reply, VoiceNote
from bots.discord.chat import audio_suffix, is_audio, is_video, user_of, where_of_message
from bots.discord.inflight import InFlight
from bots.discord.render import message_parts, start_typing
from bots.i18n import t
from common.audio import suffix_of

log = logging.getLogger(__name__)


class NotesCog(commands.Cog):
    """Every recording in a message the bot can see; the service decides whether to listen."""

    def __init__(self, bot: commands.Bot, service: VoiceMoodService, in_flight: InFlight) -> None:
        self.bot, self.service, self.in_flight = bot, service, in_flight

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A voice message, audio or video attachment: ask the service and reply to the message."""
        if message.author.bot:
            return
        recordings = [a for a in message.attachments if is_audio(a) or is_video(a)]
        if not recordings:
            return
        with self.in_flight.tracked():
            for index, attachment in enumerate(recordings):
                message_id = str(message.id) if index == 0 else f"{message.id}:{attachment.id}"
                await self._answer_recording(message, attachment, message_id)

    async def _answer_recording(
        self, message: discord.Message, attachment: discord.Attachment, message_id: str
    ) -> None:
        where = where_of_message(message)
        async with contextlib.AsyncExitStack() as typing:
            fetched = False

            async def fetch() -> bytes:
                # Called only once the service decided to listen: only then does the bot type,
                # starting alongside the download rather than a round trip before it.
                nonlocal fetched
                fetched = True
                _, data = await asyncio.gather(
                    start_typing(typing, message.channel), attachment.read()
                )
                return data

            video = is_video(attachment)
            suffix = (
                (suffix_of(attachment.filename) or "mp4") if video else audio_suffix(attachment)
            )
            note = VoiceNote(message_id, fetch, attachment.size, suffix, video)
            try:
                reply = await self.service.on_voice(user_of(message.author), where, note)
            except Exception:
                log.exception("answering a voice note failed")
                if not fetched:
                    return
                reply = Reply(t(self.service.default_language, "error.error"))
            if reply is None:
                return
            try:
                sent = await message.channel.send(
                    reference=message.to_reference(fail_if_not_exists=False),
                    mention_author=False,
                    **message_parts(reply, as_embed=True),
                )
            except discord.HTTPException:
                log.warning("sending the answer to a voice note failed", exc_info=True)
                return
        if reply.note_id is not None:
            await self.service.remember_reply(where, reply.note_id, str(sent.id))

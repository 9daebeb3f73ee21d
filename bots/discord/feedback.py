"""Votes on Discord: presses on the answer's buttons and reactions on the answer."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bots.core.service import VoiceMoodService
from bots.core.values import User
from bots.discord.chat import PLATFORM, user_of, where_of, where_of_reaction
from bots.discord.inflight import InFlight
from bots.discord.render import message_text, send_button_answer, within_deadline

log = logging.getLogger(__name__)


class FeedbackCog(commands.Cog):
    """Button presses (routed here by render.ServiceButton) and reactions that vote."""

    def __init__(self, bot: commands.Bot, service: VoiceMoodService, in_flight: InFlight) -> None:
        self.bot, self.service, self.in_flight = bot, service, in_flight

    async def on_button(self, interaction: discord.Interaction, data: str) -> None:
        """A press on a service button: the notice only the presser sees, and the message's edit."""
        message = interaction.message
        text = message_text(message) if message is not None else ""
        with self.in_flight.tracked():
            answer = await within_deadline(
                interaction,
                self.service.on_button(
                    user_of(interaction.user, interaction.locale), where_of(interaction), data, text
                ),
                update=True,
            )
            await send_button_answer(interaction, answer)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """An emoji on one of the bot's answers (cached or not) may be a vote."""
        me = self.bot.user
        if me is None or payload.user_id == me.id or not payload.emoji.is_unicode_emoji():
            return
        # Only the bot's own messages can be answers; anything else is none of its business.
        if payload.message_author_id is not None and payload.message_author_id != me.id:
            return
        try:
            user = await self._reactor(payload)
            await self.service.on_reaction(
                user, where_of_reaction(payload), str(payload.message_id), str(payload.emoji)
            )
        except Exception:
            log.exception("counting a reaction failed")

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        """An emoji taken off one of the bot's answers withdraws the vote it made.

        Removals carry neither the member nor the message's author: the user id is all there is.
        """
        me = self.bot.user
        if me is None or payload.user_id == me.id or not payload.emoji.is_unicode_emoji():
            return
        cached = discord.utils.get(self.bot.cached_messages, id=payload.message_id)
        if cached is not None and cached.author.id != me.id:
            return
        # The service only looks the person up by id; it never renames anyone from a removal.
        user = User(PLATFORM, str(payload.user_id), "")
        try:
            await self.service.on_reaction_removed(
                user, where_of_reaction(payload), str(payload.message_id), str(payload.emoji)
            )
        except Exception:
            log.exception("withdrawing a reaction's vote failed")

    async def _reactor(self, payload: discord.RawReactionActionEvent) -> User:
        if payload.member is not None:
            return user_of(payload.member)
        found = self.bot.get_user(payload.user_id) or await self.bot.fetch_user(payload.user_id)
        return user_of(found)

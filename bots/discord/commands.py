"""Slash commands on Discord, generated from the one command table (bots.core.commands).

Each table entry becomes an app command with its options (choices become a fixed list) and its
description from the help text, in English and Korean; the service answers them all. The
server intro, which offers the same opt-in as /optin, is posted from here too.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bots.core.commands import MENU, Command, describe
from bots.core.service import VoiceMoodService
from bots.core.values import Where
from bots.discord.chat import PLATFORM, home_channel, user_of, where_of
from bots.discord.inflight import InFlight
from bots.discord.render import clip, message_parts, within_deadline

log = logging.getLogger(__name__)

Run = Callable[[discord.Interaction[Any], str, list[str | None]], Awaitable[None]]


class CommandsCog(commands.Cog):
    """Every command of the table as a slash command, and the intro when joining a server."""

    def __init__(self, bot: commands.Bot, service: VoiceMoodService, in_flight: InFlight) -> None:
        self.bot, self.service, self.in_flight = bot, service, in_flight
        self.slash = [slash_command(command, self.run) for command in MENU]

    async def cog_load(self) -> None:
        for command in self.slash:
            self.bot.tree.add_command(command)

    async def cog_unload(self) -> None:
        for command in self.slash:
            self.bot.tree.remove_command(command.name)

    async def run(
        self, interaction: discord.Interaction[Any], name: str, args: list[str | None]
    ) -> None:
        """Run `/name args` through the service and answer the interaction with its Reply."""
        command = next(c for c in MENU if c.name == name)
        member = interaction.user
        # Manage Server is what Discord calls running a server; the service decides what needs it.
        is_admin = isinstance(member, discord.Member) and member.guild_permissions.manage_guild
        where = where_of(interaction)
        ephemeral = where.is_group and command.personal
        with self.in_flight.tracked():
            if command.slow:
                await interaction.response.defer(thinking=True, ephemeral=ephemeral)
            reply = await within_deadline(
                interaction,
                self.service.on_command(
                    user_of(member, interaction.locale),
                    where,
                    name,
                    [a for a in args if a],
                    is_admin=is_admin,
                ),
                ephemeral=ephemeral,
            )
            parts = message_parts(reply)
            if interaction.response.is_done():
                await interaction.followup.send(ephemeral=ephemeral, **parts)
            else:
                await interaction.response.send_message(ephemeral=ephemeral, **parts)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Introduce the bot, with its opt-in button, where the server's members will see it."""
        channel = home_channel(guild)
        if channel is None:
            log.info("no channel to introduce myself in guild %s", guild.id)
            return
        try:
            reply = await self.service.on_group_joined(Where(PLATFORM, str(guild.id), True))
            await channel.send(**message_parts(reply))
        except Exception:
            log.exception("posting the intro in guild %s failed", guild.id)


def slash_command(command: Command, run: Run) -> app_commands.Command[Any, ..., None]:
    """The app command for one table entry; its callback hands the options to `run` in order."""

    async def callback(interaction: discord.Interaction[Any], **options: str | None) -> None:
        await run(interaction, command.name, [options.get(o.name) for o in command.options])

    # discord.py reads the options from the callback's signature: give it one per table option.
    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for option in command.options:
        kind: Any = Literal[option.choices] if option.choices else str  # type: ignore[valid-type]
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=kind if option.required else kind | None,
                default=inspect.Parameter.empty if option.required else None,
            )
        )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    slash: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=command.name,
        description=app_commands.locale_str(
            description_in("en", command.name), command=command.name
        ),
        callback=callback,
    )
    if command.admins:
        slash.default_permissions = discord.Permissions(manage_guild=True)
    return slash


def description_in(lang: str, command: str) -> str:
    """What `/command` does, from the help text, within Discord's 100 characters."""
    return clip(describe(lang, command)[1], 100)


class HelpTranslator(app_commands.Translator):
    """Korean command descriptions, from the same help text the service shows."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        command = string.extras.get("command")
        if command is None or locale is not discord.Locale.korean:
            return None
        return description_in("ko", command)

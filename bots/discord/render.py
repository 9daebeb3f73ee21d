"""Rendering on Discord: a Reply as message keywords (content or embed, chart, buttons), edits,
and answering interactions within Discord's three seconds.

Buttons are persistent: one DynamicItem routes every `vm:<ButtonAction>` custom_id to the
feedback cog, also for messages sent before a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar, runtime_checkable

import discord
from discord.ext import commands

from bots.core.values import Button, ButtonAnswer, Reply

CUSTOM_ID_PREFIX = "vm:"
CHART_FILENAME = "mood.png"
# Discord's limits: message content, embed description, button label, components per row / rows.
_CONTENT_LIMIT = 2000
_EMBED_LIMIT = 4096
_LABEL_LIMIT = 80
_ROW_LIMIT = 5
# Discord wants an interaction answered within 3 s; a slower service call is deferred first.
_DEFER_AFTER_S = 2.0
_COLOUR = discord.Colour.blurple()
_T = TypeVar("_T")
# The cog that answers button presses (bots.discord.feedback), found by name to keep imports one-way.
FEEDBACK_COG = "FeedbackCog"


@runtime_checkable
class ButtonHandler(Protocol):
    async def on_button(self, interaction: discord.Interaction[Any], data: str) -> None: ...


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message_parts(reply: Reply, *, as_embed: bool = False) -> dict[str, Any]:
    """send()/send_message() keywords for a Reply: content or an embed, the chart, the buttons.

    Answers to voice notes are embeds; a Reply with a chart becomes an embed showing it.
    """
    parts: dict[str, Any] = {}
    if as_embed or reply.photo is not None:
        embed = discord.Embed(description=clip(reply.text, _EMBED_LIMIT), colour=_COLOUR)
        if reply.photo is not None:
            parts["file"] = discord.File(io.BytesIO(reply.photo), CHART_FILENAME)
            embed.set_image(url=f"attachment://{CHART_FILENAME}")
        parts["embed"] = embed
    else:
        parts["content"] = clip(reply.text, _CONTENT_LIMIT)
    if reply.files:
        # Downloadable files (an export) ride along with the message; with a chart, both go.
        files = [discord.File(io.BytesIO(a.data), a.filename) for a in reply.files]
        parts["files"] = [parts.pop("file"), *files] if "file" in parts else files
    if reply.buttons:
        parts["view"] = button_view(reply.buttons)
    return parts


def button_view(rows: tuple[tuple[Button, ...], ...]) -> discord.ui.View:
    """The service's button rows as a persistent view (timeout=None, routed by ServiceButton)."""
    view = discord.ui.View(timeout=None)
    for index, row in enumerate(rows[:_ROW_LIMIT]):
        for button in row[:_ROW_LIMIT]:
            view.add_item(ServiceButton(button.data, button.text, row=index))
    return view


def message_text(message: discord.Message) -> str:
    """The text the service wrote into a message: its embed's description, else its content."""
    if message.embeds and message.embeds[0].description:
        return message.embeds[0].description
    return message.content


def edit_parts(message: discord.Message | None, edit: Reply) -> dict[str, Any]:
    """edit_message() keywords that rewrite a message in the form it already has."""
    parts: dict[str, Any] = {"view": button_view(edit.buttons) if edit.buttons else None}
    if message is not None and message.embeds:
        embed = message.embeds[0].copy()
        embed.description = clip(edit.text, _EMBED_LIMIT)
        parts["embed"] = embed
    else:
        parts["content"] = clip(edit.text, _CONTENT_LIMIT)
    if edit.photo is not None:
        parts["attachments"] = [discord.File(io.BytesIO(edit.photo), CHART_FILENAME)]
    return parts


async def start_typing(stack: contextlib.AsyncExitStack, channel: discord.abc.Messageable) -> None:
    """Show "typing…" until `stack` closes; a channel that refuses it costs nothing else."""
    with contextlib.suppress(discord.HTTPException):
        await stack.enter_async_context(channel.typing())


async def send_button_answer(interaction: discord.Interaction[Any], answer: ButtonAnswer) -> None:
    """Edit the pressed message when the service says so; the notice goes to the presser only,
    and a follow-up message (a new practice round, its summary) below for everyone in the chat."""
    if answer.edit is not None:
        parts = edit_parts(interaction.message, answer.edit)
        if interaction.response.is_done():
            await interaction.edit_original_response(**parts)
        else:
            await interaction.response.edit_message(**parts)
        if answer.notice:
            await interaction.followup.send(answer.notice, ephemeral=True)
    elif answer.notice:
        if interaction.response.is_done():
            await interaction.followup.send(answer.notice, ephemeral=True)
        else:
            await interaction.response.send_message(answer.notice, ephemeral=True)
    elif not interaction.response.is_done():
        await interaction.response.defer()
    if answer.follow is not None:
        await interaction.followup.send(**message_parts(answer.follow))


async def within_deadline(
    interaction: discord.Interaction[Any],
    work: Awaitable[_T],
    *,
    ephemeral: bool = False,
    update: bool = False,
) -> _T:
    """The service's answer; the interaction is deferred first if it takes longer than ~2 s."""
    task = asyncio.ensure_future(work)
    if not interaction.response.is_done():
        done, _ = await asyncio.wait({task}, timeout=_DEFER_AFTER_S)
        if not done:
            if update:
                await interaction.response.defer()
            else:
                await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    return await task


class ServiceButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=re.escape(CUSTOM_ID_PREFIX) + r"(?P<data>.+)",
):
    """A button whose custom_id carries the service's Button.data, so no view state is needed."""

    def __init__(self, data: str, label: str, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:_LABEL_LIMIT],
                custom_id=CUSTOM_ID_PREFIX + data,
                style=discord.ButtonStyle.secondary,
            ),
            row=row,
        )
        self.data = data

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ServiceButton:
        return cls(match["data"], getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        # The feedback cog answers every press; ButtonAction decodes what the press means.
        client = interaction.client
        cog = client.get_cog(FEEDBACK_COG) if isinstance(client, commands.Bot) else None
        if isinstance(cog, ButtonHandler):
            await cog.on_button(interaction, self.data)

"""Who and where on Discord: the service's User and Where for members, messages and reactions.

Consent is per member per server, so the "chat" of a server message is its guild (with the
channel remembered beside it), and a DM's chat is the DM channel.
"""

from __future__ import annotations

from typing import Any

import discord

from bots.core.values import User, Where
from common.audio import AUDIO_MIME_PREFIX, VIDEO_MIME_PREFIX, is_recording_name, suffix_of

PLATFORM = "discord"


def user_of(user: discord.abc.User, locale: discord.Locale | None = None) -> User:
    """The service's User for a Discord user or member (its server nickname as the name).

    Only interactions carry the person's client language; messages and reactions do not.
    """
    return User(PLATFORM, str(user.id), user.display_name, str(locale) if locale else None)


def where_of_message(message: discord.Message) -> Where:
    return _where(message.guild.id if message.guild is not None else None, message.channel.id)


def where_of(interaction: discord.Interaction[Any]) -> Where:
    return _where(interaction.guild_id, interaction.channel_id)


def where_of_reaction(payload: discord.RawReactionActionEvent) -> Where:
    return _where(payload.guild_id, payload.channel_id)


def _where(guild_id: int | None, channel_id: int | None) -> Where:
    """A server is one chat (consent is per server) and remembers the channel; a DM is its channel."""
    if guild_id is not None:
        return Where(PLATFORM, str(guild_id), True, str(channel_id))
    return Where(PLATFORM, str(channel_id), is_group=False)


def is_audio(attachment: discord.Attachment) -> bool:
    """A voice message (flag 8192), or an attachment that is audio by its type or name."""
    if attachment.is_voice_message():
        return True
    if (attachment.content_type or "").startswith(AUDIO_MIME_PREFIX):
        return True
    return is_recording_name(attachment.filename)


def is_video(attachment: discord.Attachment) -> bool:
    """A video attachment (by its content type): its sound is heard, its faces read on /face on."""
    return (attachment.content_type or "").startswith(VIDEO_MIME_PREFIX)


def audio_suffix(attachment: discord.Attachment) -> str:
    """The suffix a donated recording is kept under (a voice message's name may have none)."""
    return suffix_of(attachment.filename) if is_recording_name(attachment.filename) else "ogg"


def home_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The system channel, else the first text channel the bot may write in."""
    me = guild.me
    candidates = [guild.system_channel] if guild.system_channel else []
    candidates += sorted(guild.text_channels, key=lambda c: c.position)
    for channel in candidates:
        if channel is not None and channel.permissions_for(me).send_messages:
            return channel
    return None

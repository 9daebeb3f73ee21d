"""The Discord adapter: discord.py events in, VoiceMoodService calls, its Replies rendered back.

discord.py 2.x does the platform work: the gateway and its heartbeat, 429 retries, app commands,
and persistent buttons (one DynamicItem routes every `vm:<Button.data>` custom_id to the service,
also for messages sent before a restart). Consent is per member per server, so the "chat" of a
server message is its guild, not its channel; a DM's chat is the DM channel. Every sentence comes
from the service and bots/i18n; this module only chooses where and how it is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands, tasks

from bots.i18n import command_help, t
from bots.service import (
    DEFAULT_DIGEST_TIME,
    Button,
    ButtonAnswer,
    Reply,
    User,
    VoiceMoodService,
    VoiceNote,
    Where,
)
from common.audio import AUDIO_MIME_PREFIX, RECORDING_SUFFIXES
from storage.models import Chat, ChatSettings

log = logging.getLogger(__name__)

PLATFORM = "discord"
CUSTOM_ID_PREFIX = "vm:"
AUDIO_SUFFIXES = frozenset(RECORDING_SUFFIXES)
CHART_FILENAME = "mood.png"
# Replies that concern only the person asking stay between them and the bot in a server.
PERSONAL_COMMANDS = frozenset({"help", "privacy", "lang", "donate", "baseline", "forget"})
# Commands that draw a chart: deferred at once, since matplotlib may take a while.
SLOW_COMMANDS = frozenset({"summary"})

# Discord's limits: message content, embed description, button label, components per row / rows.
_CONTENT_LIMIT = 2000
_EMBED_LIMIT = 4096
_LABEL_LIMIT = 80
_ROW_LIMIT = 5
# Discord wants an interaction answered within 3 s; a slower service call is deferred first.
_DEFER_AFTER_S = 2.0
_COLOUR = discord.Colour.blurple()
_T = TypeVar("_T")


# Command descriptions come from the help text, so their wording lives in bots/i18n only; they
# sit up here because the cog's decorators call them while the class is being defined.


def _describe(command: str) -> app_commands.locale_str:
    return app_commands.locale_str(_description_in("en", command), command=command)


def _description_in(lang: str, command: str) -> str:
    """What `/command` does, from the help text ("/donate on|off – keep my ..." → "keep my ...")."""
    return _clip(command_help(lang, command)[1], 100)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class DiscordHandle:
    """A running Discord client: `stop()` drains in-flight notes, disconnects, undoes the URLs."""

    client: VoiceMoodBot
    task: asyncio.Task[None]
    _restore: Callable[[], None] = field(default=lambda: None, repr=False)

    async def stop(self, drain_s: float = 10.0) -> None:
        """Let notes being analysed get their answer (up to `drain_s`), then close the client."""
        if self.client.cog is not None:
            await self.client.cog.drain(drain_s)
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
) -> DiscordHandle:
    """Log in, connect in a task and return once the bot is ready (commands synced).

    `api_base` and `gateway` replace discord.py's REST base URL and gateway URL (class-wide, until
    `stop()`); a bad token raises discord.LoginFailure here.
    """
    restore = _point_discord_py_at(api_base, gateway)
    client = build_client(service, guild_ready_timeout=guild_ready_timeout)
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


def build_client(service: VoiceMoodService, **options: Any) -> VoiceMoodBot:
    """The bot with VoiceMood's listeners, slash commands and buttons (options go to discord.py)."""
    return VoiceMoodBot(service, **options)


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
        self.cog: VoiceMoodCog | None = None

    async def setup_hook(self) -> None:
        """Register the cog and the button router, then sync the command tree."""
        self.cog = VoiceMoodCog(self, self.service)
        await self.add_cog(self.cog)
        self.add_dynamic_items(ServiceButton)
        await self.tree.set_translator(_HelpTranslator())
        try:
            await self.tree.sync()
        except discord.HTTPException:
            log.warning(
                "syncing the slash commands failed; the last synced ones stay", exc_info=True
            )

    async def on_message(self, message: discord.Message, /) -> None:
        """Slash commands only: the cog's listener handles voice notes."""


class VoiceMoodCog(commands.Cog):
    """Voice notes, reactions, the server intro, slash commands and daily digests on Discord."""

    def __init__(self, bot: VoiceMoodBot, service: VoiceMoodService) -> None:
        self.bot = bot
        self.service = service
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._digested: dict[int, date] = {}

    async def cog_load(self) -> None:
        self._digest_clock.start()

    async def cog_unload(self) -> None:
        self._digest_clock.cancel()

    async def drain(self, timeout_s: float) -> None:
        """Wait (up to `timeout_s`) for the notes, presses and commands being answered right now."""
        pending = {task for task in self._in_flight if task is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """Count the running handler as in flight, so drain() lets it finish."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._in_flight.discard(task)

    # Voice notes

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A voice message or audio attachment: ask the service and reply to the message."""
        if message.author.bot:
            return
        recordings = [a for a in message.attachments if is_audio(a)]
        if not recordings:
            return
        with self._tracked():
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
                    _start_typing(typing, message.channel), attachment.read()
                )
                return data

            note = VoiceNote(
                message_id, fetch, size=attachment.size, suffix=audio_suffix(attachment)
            )
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

    # Reactions

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

    # Buttons (ServiceButton routes here)

    async def on_button(self, interaction: discord.Interaction, data: str) -> None:
        """A press on a service button: the notice only the presser sees, and the message's edit."""
        message = interaction.message
        text = message_text(message) if message is not None else ""
        with self._tracked():
            answer = await _within_deadline(
                interaction,
                self.service.on_button(
                    user_of(interaction.user, interaction.locale), where_of(interaction), data, text
                ),
                update=True,
            )
            await _send_button_answer(interaction, answer)

    # Joining a server

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

    # Daily digests

    @tasks.loop(seconds=30)
    async def _digest_clock(self) -> None:
        try:
            await self.post_due_digests(datetime.now(UTC))
        except Exception:  # a failing tick must not stop the loop for good
            log.exception("posting daily digests failed")

    async def post_due_digests(self, now: datetime) -> int:
        """Post the digest of each Discord chat whose time (UTC) is `now`'s minute; how many.

        A chat whose digest cannot be posted is logged and skipped; the others still get theirs.
        """
        posted = 0
        for due in await self.service.store.scheduled_digests():
            chat, at = due.chat, due.settings.digest_time or DEFAULT_DIGEST_TIME
            if chat.platform != PLATFORM or (at.hour, at.minute) != (now.hour, now.minute):
                continue
            if self._digested.get(chat.id) == now.date():
                continue
            self._digested[chat.id] = now.date()
            try:
                posted += await self._post_digest(chat, due.settings)
            except Exception:
                log.exception("posting the daily digest of chat %s failed", chat.id)
        return posted

    async def _post_digest(self, chat: Chat, settings: ChatSettings) -> bool:
        """Post one chat's digest where it belongs; False when there is nothing or nowhere to post."""
        channel = await self._digest_channel(chat, settings)
        if channel is None:
            return False
        reply = await self.service.digest(chat)
        if reply is None:
            return False
        try:
            await channel.send(**message_parts(reply))
        except discord.HTTPException as error:
            # Status and Discord's error code only: the response text is not ours to log.
            log.warning(
                "the digest of chat %s was refused (HTTP %s, code %s); skipped today",
                chat.id,
                error.status,
                error.code,
            )
            return False
        return True

    async def _digest_channel(
        self, chat: Chat, settings: ChatSettings
    ) -> discord.abc.Messageable | None:
        """Where a chat's digest goes: in a server, the channel /digest was switched on in.

        Consent, and so the chat, is per server, so the channel is a setting of the server's chat;
        settings older than that setting use the server's home channel (where the intro went).
        """
        if chat.kind != "group":
            return await self._dm_channel(chat)
        guild = self.bot.get_guild(int(chat.platform_chat_id))
        if guild is None:
            log.info("digest of chat %s skipped: the bot is not in its server", chat.id)
            return None
        if settings.digest_channel is None:
            home = home_channel(guild)
            if home is None:
                log.warning("digest of chat %s skipped: no channel to write in", chat.id)
            return home
        channel = guild.get_channel_or_thread(int(settings.digest_channel))
        if channel is None or not isinstance(channel, discord.abc.Messageable):
            # Not moved elsewhere: the people who asked for it read that channel, not another.
            log.warning(
                "digest of chat %s skipped: its channel %s is gone",
                chat.id,
                settings.digest_channel,
            )
            return None
        if not _may_post_chart(channel, guild.me):
            log.warning(
                "digest of chat %s skipped: may not post a chart in channel %s",
                chat.id,
                settings.digest_channel,
            )
            return None
        return channel

    async def _dm_channel(self, chat: Chat) -> discord.abc.Messageable | None:
        channel = self.bot.get_channel(int(chat.platform_chat_id))
        if channel is None:
            with contextlib.suppress(discord.HTTPException):
                channel = await self.bot.fetch_channel(int(chat.platform_chat_id))
        return channel if isinstance(channel, discord.abc.Messageable) else None

    # Slash commands: the same meanings as on Telegram; the service answers them all.

    @app_commands.command(name="help", description=_describe("help"))
    async def show_help(self, interaction: discord.Interaction) -> None:
        await self._command(interaction, "help")

    @app_commands.command(name="privacy", description=_describe("privacy"))
    async def show_privacy(self, interaction: discord.Interaction) -> None:
        await self._command(interaction, "privacy")

    @app_commands.command(name="optin", description=_describe("optin"))
    async def optin(self, interaction: discord.Interaction) -> None:
        await self._command(interaction, "optin")

    @app_commands.command(name="optout", description=_describe("optout"))
    async def optout(self, interaction: discord.Interaction) -> None:
        await self._command(interaction, "optout")

    @app_commands.command(name="donate", description=_describe("donate"))
    async def donate(self, interaction: discord.Interaction, state: Literal["on", "off"]) -> None:
        await self._command(interaction, "donate", state)

    @app_commands.command(name="baseline", description=_describe("baseline"))
    async def baseline(
        self, interaction: discord.Interaction, state: Literal["on", "off"] | None = None
    ) -> None:
        await self._command(interaction, "baseline", state)

    @app_commands.command(name="forget", description=_describe("forget"))
    async def forget(self, interaction: discord.Interaction) -> None:
        await self._command(interaction, "forget")

    @app_commands.command(name="summary", description=_describe("summary"))
    async def summary(self, interaction: discord.Interaction, period: str | None = None) -> None:
        await self._command(interaction, "summary", period)

    @app_commands.command(name="digest", description=_describe("digest"))
    async def digest(
        self, interaction: discord.Interaction, state: Literal["on", "off"], time: str | None = None
    ) -> None:
        await self._command(interaction, "digest", state, time)

    @app_commands.command(name="lang", description=_describe("lang"))
    async def lang(self, interaction: discord.Interaction, language: Literal["en", "ko"]) -> None:
        await self._command(interaction, "lang", language)

    @app_commands.command(name="analysis", description=_describe("analysis"))
    @app_commands.default_permissions(manage_guild=True)
    async def analysis(self, interaction: discord.Interaction, state: Literal["on", "off"]) -> None:
        await self._command(interaction, "analysis", state)

    async def _command(
        self, interaction: discord.Interaction, name: str, *args: str | None
    ) -> None:
        """Run `/name args` through the service and answer the interaction with its Reply."""
        member = interaction.user
        # Manage Server is what Discord calls running a server; the service decides what needs it.
        is_admin = isinstance(member, discord.Member) and member.guild_permissions.manage_guild
        where = where_of(interaction)
        ephemeral = where.is_group and name in PERSONAL_COMMANDS
        with self._tracked():
            if name in SLOW_COMMANDS:
                await interaction.response.defer(thinking=True, ephemeral=ephemeral)
            reply = await _within_deadline(
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
        client = interaction.client
        if isinstance(client, VoiceMoodBot) and client.cog is not None:
            await client.cog.on_button(interaction, self.data)


class _Tree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        """Log and carry on: one failed command must not take the bot down."""
        command = interaction.command.name if interaction.command else "?"
        log.error("slash command /%s failed", command, exc_info=error)


class _HelpTranslator(app_commands.Translator):
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
        return _description_in("ko", command)


# Mapping platform objects to the service's


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
    return attachment.filename.rpartition(".")[2].lower() in AUDIO_SUFFIXES


def audio_suffix(attachment: discord.Attachment) -> str:
    suffix = attachment.filename.rpartition(".")[2].lower()
    return suffix if suffix in AUDIO_SUFFIXES else "ogg"


def _may_post_chart(channel: discord.abc.GuildChannel | discord.Thread, me: discord.Member) -> bool:
    """Whether the bot may post a message with a file here (threads have their own send right)."""
    allowed = channel.permissions_for(me)
    may_send = (
        allowed.send_messages_in_threads
        if isinstance(channel, discord.Thread)
        else allowed.send_messages
    )
    return may_send and allowed.attach_files


def home_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The system channel, else the first text channel the bot may write in."""
    me = guild.me
    candidates = [guild.system_channel] if guild.system_channel else []
    candidates += sorted(guild.text_channels, key=lambda c: c.position)
    for channel in candidates:
        if channel is not None and channel.permissions_for(me).send_messages:
            return channel
    return None


# Rendering Replies


def message_parts(reply: Reply, *, as_embed: bool = False) -> dict[str, Any]:
    """send()/send_message() keywords for a Reply: content or an embed, the chart, the buttons.

    Answers to voice notes are embeds; a Reply with a chart becomes an embed showing it.
    """
    parts: dict[str, Any] = {}
    if as_embed or reply.photo is not None:
        embed = discord.Embed(description=_clip(reply.text, _EMBED_LIMIT), colour=_COLOUR)
        if reply.photo is not None:
            parts["file"] = discord.File(io.BytesIO(reply.photo), CHART_FILENAME)
            embed.set_image(url=f"attachment://{CHART_FILENAME}")
        parts["embed"] = embed
    else:
        parts["content"] = _clip(reply.text, _CONTENT_LIMIT)
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
        embed.description = _clip(edit.text, _EMBED_LIMIT)
        parts["embed"] = embed
    else:
        parts["content"] = _clip(edit.text, _CONTENT_LIMIT)
    if edit.photo is not None:
        parts["attachments"] = [discord.File(io.BytesIO(edit.photo), CHART_FILENAME)]
    return parts


async def _start_typing(stack: contextlib.AsyncExitStack, channel: discord.abc.Messageable) -> None:
    """Show "typing…" until `stack` closes; a channel that refuses it costs nothing else."""
    with contextlib.suppress(discord.HTTPException):
        await stack.enter_async_context(channel.typing())


async def _send_button_answer(interaction: discord.Interaction[Any], answer: ButtonAnswer) -> None:
    """Edit the pressed message when the service says so; the notice goes to the presser only."""
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


async def _within_deadline(
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

"""The fake Discord server speaks well enough for the real discord.py client, views and command tree."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import discord.gateway
import discord.http
import pytest
from discord import app_commands

from tests.fakes.discord import (
    FAKE_TOKEN,
    IS_VOICE_MESSAGE,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeUser,
    discord_py_pointed_at,
    running_client,
)

OGG_BYTES = b"OggS\x00\x02" + bytes(range(256)) * 4  # opaque bytes: only identity matters here


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    general: FakeChannel
    admin: FakeUser
    alice: FakeUser


class Recorder(discord.Client):
    """A client that hands every event it gets to a queue the test reads."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.1)
        self.events: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        self.tree = app_commands.CommandTree(self)

    async def on_message(self, message: discord.Message) -> None:
        await self.events.put(("message", message))

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.events.put(("raw_reaction_add", payload))

    async def next_event(self, name: str) -> object:
        """The next event called `name` (others are dropped)."""
        async with asyncio.timeout(5):
            while True:
                got, value = await self.events.get()
                if got == name:
                    return value


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Mood Lab")
        general = fake.add_text_channel(guild, "general")
        admin = fake.add_user("admin")
        fake.add_member(
            guild,
            admin,
            roles=[fake.add_role(guild, "mods", discord.Permissions(manage_guild=True))],
        )
        alice = fake.add_user("alice")
        fake.add_member(guild, alice)
        with discord_py_pointed_at(fake):
            yield World(fake, guild, general, admin, alice)


@pytest.fixture
async def bot(world: World) -> AsyncIterator[Recorder]:
    async with running_client(Recorder()) as client:
        yield client


async def test_client_becomes_ready_and_knows_the_guild(world: World, bot: Recorder) -> None:
    guild = bot.get_guild(world.guild.id)
    assert bot.user is not None and bot.user.id == world.fake.bot.id
    assert bot.application_id == world.fake.application_id
    assert guild is not None and guild.name == "Mood Lab"
    assert guild.get_channel(world.general.id) is not None
    assert guild.me is not None
    identify = next(p for p in world.fake.gateway_received if p["op"] == 2)
    assert identify["d"]["token"] == FAKE_TOKEN
    assert identify["d"]["intents"] & discord.Intents(message_content=True).value
    # discord.py asked for a zlib stream; the fake sent compressed frames it could read.
    assert world.fake.gateway_connections[0].query["compress"] == "zlib-stream"
    assert {c.token for c in world.fake.calls} == {FAKE_TOKEN}


async def test_voice_message_in_guild_reaches_on_message_with_its_bytes(
    world: World, bot: Recorder
) -> None:
    await world.fake.send_voice_message(world.general, world.alice, OGG_BYTES, duration_secs=3.5)

    message = await bot.next_event("message")

    assert isinstance(message, discord.Message)
    assert message.flags.value & IS_VOICE_MESSAGE
    assert isinstance(message.author, discord.Member)
    assert message.author.id == world.alice.id
    (attachment,) = message.attachments
    assert attachment.is_voice_message()
    assert attachment.duration == 3.5
    assert attachment.content_type == "audio/ogg"
    assert await attachment.read() == OGG_BYTES


async def test_member_permissions_follow_their_roles(world: World, bot: Recorder) -> None:
    await world.fake.send_message(world.general, world.admin, "hello")
    from_admin = await bot.next_event("message")
    await world.fake.send_message(world.general, world.alice, "hello")
    from_alice = await bot.next_event("message")

    assert isinstance(from_admin, discord.Message) and isinstance(from_alice, discord.Message)
    assert isinstance(from_admin.author, discord.Member)
    assert isinstance(from_alice.author, discord.Member)
    assert from_admin.author.guild_permissions.manage_guild
    assert not from_alice.author.guild_permissions.manage_guild


async def test_direct_message_arrives_and_the_bot_answers_by_dm(
    world: World, bot: Recorder
) -> None:
    dm = world.fake.dm_channel(world.alice)
    await world.fake.send_message(dm, world.alice, "hi bot")

    message = await bot.next_event("message")

    assert isinstance(message, discord.Message)
    assert message.guild is None
    assert isinstance(message.channel, discord.DMChannel)
    assert message.content == "hi bot"

    await message.author.send("hello alice")

    (opened,) = world.fake.calls_to("POST", "/users/@me/channels")
    assert int(opened.json["recipient_id"]) == world.alice.id
    (sent,) = world.fake.calls_to("POST", f"/channels/{dm.id}/messages")
    assert sent.json["content"] == "hello alice"


async def test_reply_with_embed_is_recorded_with_reference(world: World, bot: Recorder) -> None:
    sent = await world.fake.send_message(world.general, world.alice, "how do I sound?")
    message = await bot.next_event("message")
    assert isinstance(message, discord.Message)

    reply = await message.reply("x", embed=discord.Embed(title="Calm", description="82 %"))

    (call,) = world.fake.calls_to("POST", f"/channels/{world.general.id}/messages")
    assert call.json["content"] == "x"
    assert call.json["embeds"][0]["title"] == "Calm"
    assert str(call.json["message_reference"]["message_id"]) == sent["id"]
    assert reply.reference is not None and reply.reference.message_id == int(sent["id"])
    assert reply.embeds[0].description == "82 %"


async def test_sending_a_file_records_its_bytes_and_serves_them_back(
    world: World, bot: Recorder
) -> None:
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)

    sent = await channel.send("chart", file=discord.File(io.BytesIO(b"\x89PNG-chart"), "mood.png"))

    call = await world.fake.wait_for_call("POST", f"/channels/{world.general.id}/messages")
    assert call.json["content"] == "chart"
    (upload,) = call.files
    assert (upload.filename, upload.data) == ("mood.png", b"\x89PNG-chart")
    assert await sent.attachments[0].read() == b"\x89PNG-chart"


async def test_raw_reaction_add_fires_for_an_uncached_message(world: World, bot: Recorder) -> None:
    await world.fake.react(world.general, world.fake.new_id(), world.alice, "👍")

    payload = await bot.next_event("raw_reaction_add")

    assert isinstance(payload, discord.RawReactionActionEvent)
    assert payload.user_id == world.alice.id
    assert payload.channel_id == world.general.id
    assert str(payload.emoji) == "👍"
    assert payload.member is not None and payload.member.id == world.alice.id


async def test_bot_reactions_are_recorded_with_the_emoji(world: World, bot: Recorder) -> None:
    await world.fake.send_message(world.general, world.alice, "react to me")
    message = await bot.next_event("message")
    assert isinstance(message, discord.Message)

    await message.add_reaction("🎧")

    (call,) = world.fake.calls_to("PUT", f"/channels/{world.general.id}/messages/{message.id}")
    assert call.path.endswith("/reactions/🎧/@me")


async def test_synced_slash_command_runs_and_its_response_is_recorded(
    world: World, bot: Recorder
) -> None:
    ran = asyncio.Event()

    @bot.tree.command(name="ping", description="Is the bot alive?")
    async def ping(interaction: discord.Interaction, times: int) -> None:
        ran.set()
        await interaction.response.send_message(f"pong x{times}", ephemeral=True)

    await bot.tree.sync()
    (sync,) = world.fake.calls_to("PUT", f"/applications/{world.fake.application_id}/commands")
    assert [c["name"] for c in sync.json] == ["ping"]
    assert world.fake.command_names() == ["ping"]

    handle = await world.fake.slash_command("ping", {"times": 3}, world.admin, world.general)

    call = await world.fake.wait_for_call("POST", f"/interactions/{handle.id}/{handle.token}")
    assert ran.is_set()
    assert call.json["type"] == 4
    assert call.json["data"]["content"] == "pong x3"
    assert call.json["data"]["flags"] & 64


async def test_deferred_command_sends_a_chart_followup_and_edits_the_original(
    world: World, bot: Recorder
) -> None:
    @bot.tree.command(name="analysis", description="Mood of this chat")
    async def analysis(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        chart = discord.File(io.BytesIO(b"\x89PNG-summary"), "summary.png")
        await interaction.followup.send("Mostly calm", file=chart)
        await interaction.edit_original_response(content="Summary below")

    handle = await world.fake.slash_command("analysis", {}, world.admin, world.general)

    webhook = f"/webhooks/{world.fake.application_id}/{handle.token}"
    edit = await world.fake.wait_for_call("PATCH", f"{webhook}/messages/@original")
    (callback,) = world.fake.calls_to("POST", f"/interactions/{handle.id}")
    (followup,) = world.fake.calls_to("POST", webhook)
    assert callback.json["type"] == 5
    assert followup.json["content"] == "Mostly calm"
    assert followup.files[0].data == b"\x89PNG-summary"
    assert edit.json["content"] == "Summary below"


async def test_admin_only_command_checks_the_members_permissions(
    world: World, bot: Recorder
) -> None:
    @bot.tree.command(name="analysis", description="Mood of this chat")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def analysis(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("summary")

    @bot.tree.error
    async def refuse(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await interaction.response.send_message(type(error).__name__)

    by_alice = await world.fake.slash_command("analysis", {}, world.alice, world.general)
    by_admin = await world.fake.slash_command("analysis", {}, world.admin, world.general)

    answers = {}
    for handle in (by_alice, by_admin):
        call = await world.fake.wait_for_call("POST", f"/interactions/{handle.id}/")
        answers[handle] = call.json["data"]["content"]
    assert answers == {by_alice: "MissingPermissions", by_admin: "summary"}


async def test_attachment_option_resolves_to_a_readable_attachment(
    world: World, bot: Recorder
) -> None:
    got: asyncio.Queue[bytes] = asyncio.Queue()

    @bot.tree.command(name="analyse", description="Analyse an audio file")
    async def analyse(interaction: discord.Interaction, file: discord.Attachment) -> None:
        await got.put(await file.read())
        await interaction.response.send_message(file.filename)

    await bot.tree.sync()
    audio = world.fake.add_attachment(OGG_BYTES, "note.ogg", "audio/ogg")

    await world.fake.slash_command("analyse", {"file": audio}, world.alice, world.general)

    async with asyncio.timeout(5):
        assert await got.get() == OGG_BYTES
    call = await world.fake.wait_for(lambda c: c.path.endswith("/callback"))
    assert call.json["data"]["content"] == "note.ogg"


async def test_guild_message_menu_on_a_voice_message_receives_the_message(
    world: World, bot: Recorder
) -> None:
    got: asyncio.Queue[discord.Message] = asyncio.Queue()
    here = discord.Object(world.guild.id)

    @app_commands.context_menu(name="Analyse tone")
    async def analyse_tone(interaction: discord.Interaction, message: discord.Message) -> None:
        await got.put(message)
        await interaction.response.send_message("on it", ephemeral=True)

    bot.tree.add_command(analyse_tone, guild=here)
    await bot.tree.sync(guild=here)
    assert world.fake.command_names(world.guild) == ["Analyse tone"]
    voice = await world.fake.send_voice_message(world.general, world.alice, OGG_BYTES, 2.0)

    await world.fake.message_command("Analyse tone", voice, world.admin, world.general)

    async with asyncio.timeout(5):
        message = await got.get()
    assert message.id == int(voice["id"])
    assert message.attachments[0].is_voice_message()


async def test_view_button_press_reaches_its_callback(world: World, bot: Recorder) -> None:
    pressed: asyncio.Queue[int] = asyncio.Queue()

    class Feedback(discord.ui.View):
        @discord.ui.button(label="Wrong", custom_id="feedback:wrong")
        async def wrong(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
            await pressed.put(interaction.user.id)
            await interaction.response.edit_message(content="Thanks!", view=None)

    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("Sounds calm", view=Feedback())

    await world.fake.press_button("feedback:wrong", sent.id, world.alice, world.general)

    async with asyncio.timeout(5):
        assert await pressed.get() == world.alice.id
    await world.fake.wait_for(lambda c: c.path.endswith("/callback") and c.json["type"] == 7)
    assert world.fake.messages[sent.id]["content"] == "Thanks!"


async def test_select_menu_choice_reaches_its_callback(world: World, bot: Recorder) -> None:
    chosen: asyncio.Queue[list[str]] = asyncio.Queue()

    class Correction(discord.ui.View):
        @discord.ui.select(
            custom_id="correct",
            options=[discord.SelectOption(label=x) for x in ("happy", "sad", "angry")],
        )
        async def correct(
            self, interaction: discord.Interaction, select: discord.ui.Select
        ) -> None:
            await chosen.put(select.values)
            await interaction.response.defer()

    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("Sounds happy. Wrong?", view=Correction())

    await world.fake.select("correct", ["sad"], sent.id, world.alice, world.general)

    async with asyncio.timeout(5):
        assert await chosen.get() == ["sad"]
    call = await world.fake.wait_for(lambda c: c.path.endswith("/callback"))
    assert call.json["type"] == 6


async def test_typing_is_recorded(world: World, bot: Recorder) -> None:
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)

    async with channel.typing():
        await world.fake.wait_for_call("POST", f"/channels/{world.general.id}/typing")

    assert len(world.fake.calls_to("POST", f"/channels/{world.general.id}/typing")) >= 1


async def test_rate_limited_request_is_retried(world: World, bot: Recorder) -> None:
    world.fake.rate_limit_next("POST", f"/channels/{world.general.id}/messages", retry_after=0.05)
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)

    await channel.send("after the wait")

    statuses = [c.status for c in world.fake.calls_to("POST", f"/channels/{world.general.id}")]
    assert statuses == [429, 200]


async def test_reconnect_resumes_through_the_resume_gateway_url(
    world: World, bot: Recorder
) -> None:
    await world.fake.request_reconnect()

    await world.fake.send_message(world.general, world.alice, "still there?")
    message = await bot.next_event("message")

    assert isinstance(message, discord.Message) and message.content == "still there?"
    resume = next(p for p in world.fake.gateway_received if p["op"] == 6)
    assert resume["d"]["session_id"] == "fake-session-1"
    assert world.fake.gateway_connections[-1].path == "/resume-gateway/"


async def test_auto_sharded_client_finds_the_gateway_through_rest(world: World) -> None:
    intents = discord.Intents.default()
    intents.members = True
    client = discord.AutoShardedClient(intents=intents, guild_ready_timeout=0.1)

    async with running_client(client):
        guild = client.get_guild(world.guild.id)
        assert guild is not None
        found = await guild.query_members("ali")

    assert [m.id for m in found] == [world.alice.id]
    assert world.fake.calls_to("GET", "/gateway/bot")
    assert [c.path for c in world.fake.gateway_connections] == ["/gateway/"]


async def test_pointing_is_undone_after_the_block() -> None:
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    async with FakeDiscord() as fake:
        with discord_py_pointed_at(fake):
            assert fake.rest_base == discord.http.Route.BASE
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)

"""The Discord adapter with real parts: discord.py against the fake Discord, a SQLite file, a tiny HuBERT."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import Any

import discord
import discord.gateway
import discord.http
import matplotlib.image as mpimg
import pytest

from bots.core.service import VoiceMoodService
from bots.discord.app import DiscordHandle, start_discord
from bots.i18n import label_name, t
from inference.models.hf import HFAudioClassifier
from storage.models import Chat, ChatSettings
from storage.store import Store
from tests.fakes.discord import (
    EPHEMERAL,
    FAKE_TOKEN,
    IS_VOICE_MESSAGE,
    Call,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeUser,
)
from tests.service_factory import running_service
from tests.stats_model import StatsModel

COMMANDS = {
    "help",
    "privacy",
    "optin",
    "optout",
    "donate",
    "baseline",
    "transcript",
    "face",
    "forget",
    "summary",
    "digest",
    "lang",
    "analysis",
    "history",
    "export",
    "words",
    "practice",
    "music",
}


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    general: FakeChannel
    random: FakeChannel
    admin: FakeUser
    alice: FakeUser
    bob: FakeUser


@pytest.fixture(scope="module")
def tiny_model(tiny_hubert_dir):
    return HFAudioClassifier.load(str(tiny_hubert_dir))


@pytest.fixture
async def service(tiny_model, tmp_path) -> AsyncIterator[VoiceMoodService]:
    async with running_service(tiny_model, tmp_path) as built:
        yield built


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Mood Lab")
        general = fake.add_text_channel(guild, "general")
        random = fake.add_text_channel(guild, "random")
        admin = fake.add_user("admin")
        mods = fake.add_role(guild, "mods", discord.Permissions(manage_guild=True))
        fake.add_member(guild, admin, roles=[mods])
        alice, bob = fake.add_user("alice"), fake.add_user("bob")
        fake.add_member(guild, alice)
        fake.add_member(guild, bob)
        yield World(fake, guild, general, random, admin, alice, bob)


@pytest.fixture
async def bot(world: World, service: VoiceMoodService) -> AsyncIterator[DiscordHandle]:
    handle = await _start(world, service)
    yield handle
    await handle.stop()


@pytest.fixture
def ogg(make_audio) -> bytes:
    return make_audio("note.ogg", 2.0).read_bytes()


# Voice notes


async def test_dm_voice_message_gets_an_embed_answer_with_label_confidence_and_buttons(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    sent = await world.fake.send_voice_message(dm, world.alice, ogg, duration_secs=2.0)

    answer = await _answer_to(world.fake, sent)

    (embed,) = answer["embeds"]
    chat = await _dm_chat(service, dm)
    note = await service.store.find_note(chat, sent["id"])
    assert note is not None and note.person.display_name == "alice"
    assert label_name("en", note.label) in embed["description"]
    assert f"{round(100 * note.confidence)}%" in embed["description"]
    assert _custom_ids(answer) == [f"vm:ok:{note.id}", f"vm:pick:{note.id}", f"vm:music:{note.id}"]
    assert world.fake.calls_to("POST", f"/channels/{dm.id}/typing")
    # The answer is linked to its note, so reactions on it can count as votes.
    linked = await _eventually(lambda: service.store.find_note_by_reply(chat, answer["id"]))
    assert linked is not None and linked.id == note.id


async def test_guild_voice_message_is_answered_only_for_members_who_opted_in(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    await _opt_in(world, world.admin)

    from_alice = await world.fake.send_voice_message(world.general, world.alice, ogg, 2.0)
    from_admin = await world.fake.send_voice_message(world.general, world.admin, ogg, 2.0)
    answer = await _answer_to(world.fake, from_admin)

    replies = world.fake.calls_to("POST", f"/channels/{world.general.id}/messages")
    assert [str(c.json["message_reference"]["message_id"]) for c in replies] == [from_admin["id"]]
    assert answer["embeds"][0]["description"]
    guild_chat = await service.store.ensure_chat("discord", str(world.guild.id), "group")
    notes = await service.store.chat_notes(guild_chat)
    assert [n.platform_message_id for n in notes] == [from_admin["id"]]
    assert from_alice["id"] not in {n.platform_message_id for n in notes}


async def test_consent_is_per_server_not_per_channel(
    world: World, bot: DiscordHandle, ogg: bytes
) -> None:
    await _opt_in(world, world.bob)  # in #general

    sent = await world.fake.send_voice_message(world.random, world.bob, ogg, 2.0)

    answer = await _answer_to(world.fake, sent)

    assert answer["embeds"]


async def test_mp3_attachment_without_the_voice_flag_is_answered(
    world: World, bot: DiscordHandle, make_audio
) -> None:
    dm = world.fake.dm_channel(world.alice)
    mp3 = make_audio("song.mp3", 2.0).read_bytes()
    attachment = world.fake.add_attachment(mp3, "song.mp3", "audio/mpeg")
    sent = await world.fake.send_message(dm, world.alice, "how do I sound?", [attachment])

    answer = await _answer_to(world.fake, sent)

    assert not sent["flags"] & IS_VOICE_MESSAGE
    assert _custom_ids(answer)[0].startswith("vm:ok:")


async def test_image_attachment_is_left_alone(world: World, bot: DiscordHandle, ogg: bytes) -> None:
    dm = world.fake.dm_channel(world.alice)
    picture = world.fake.add_attachment(b"\x89PNG-not-audio", "cat.png", "image/png")
    await world.fake.send_message(dm, world.alice, "look", [picture])
    voice = await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)

    await _answer_to(world.fake, voice)

    replies = world.fake.calls_to("POST", f"/channels/{dm.id}/messages")
    assert [str(c.json["message_reference"]["message_id"]) for c in replies] == [voice["id"]]


async def test_corrupt_attachment_gets_a_polite_error_and_the_bot_keeps_serving(
    world: World, bot: DiscordHandle, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    broken = await world.fake.send_voice_message(dm, world.alice, b"OggS" + b"\x00" * 500, 2.0)

    error = await _answer_to(world.fake, broken)
    good = await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
    answer = await _answer_to(world.fake, good)

    assert error["embeds"][0]["description"] == t("en", "error.undecodable")
    assert error["components"] == []
    assert _custom_ids(answer)[0].startswith("vm:ok:")


async def test_attachment_over_the_size_limit_is_refused_before_downloading(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    attachment = world.fake.add_attachment(ogg, "voice-message.ogg", "audio/ogg", 2.0)
    attachment["size"] = service.max_bytes + 1
    sent = await world.fake.send_message(
        dm, world.alice, attachments=[attachment], flags=IS_VOICE_MESSAGE
    )

    answer = await _answer_to(world.fake, sent)

    limit_mb = service.max_bytes / 1024 / 1024
    assert answer["embeds"][0]["description"] == t("en", "error.too_large", limit_mb=limit_mb)
    assert not world.fake.calls_to("POST", f"/channels/{dm.id}/typing")


async def test_event_loop_stays_responsive_while_a_burst_of_voice_notes_is_analysed(
    world: World, bot: DiscordHandle, make_audio
) -> None:
    notes = [
        make_audio(f"burst{i}.ogg", 2.0 + 0.25 * (i % 4), seed=i).read_bytes() for i in range(4)
    ]
    users = [world.fake.add_user(f"speaker{i}") for i in range(5)]
    loop = asyncio.get_running_loop()
    lags: list[float] = []

    async def measure_lag() -> None:
        while True:
            start = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - start - 0.01)

    monitor = asyncio.create_task(measure_lag())
    try:
        sent = [
            await world.fake.send_voice_message(
                world.fake.dm_channel(users[i % 5]), users[i % 5], notes[i % 4], 2.0
            )
            for i in range(20)
        ]
        answers = [await _answer_to(world.fake, message, timeout=60) for message in sent]
    finally:
        monitor.cancel()

    assert all(a["embeds"] for a in answers)
    assert len(lags) > 10 and max(lags) < 1.0


# Feedback


async def test_sounds_right_button_records_the_vote_edits_the_answer_and_tells_only_the_voter(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    answer = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
    )
    ok = _custom_ids(answer)[0]
    note_id = int(ok.rsplit(":", 1)[1])

    press = await world.fake.press_button(ok, answer, world.alice, dm)

    edit = await _callback(world.fake, press)
    notice = await world.fake.wait_for_call("POST", f"/webhooks/{world.fake.application_id}/")
    note = await service.store.get_note(note_id)
    assert [v.label for v in await service.store.votes(note_id)] == [note.label]
    assert edit.json["type"] == 7
    description = edit.json["data"]["embeds"][0]["description"]
    assert description.startswith(answer["embeds"][0]["description"]) and "×1" in description
    assert notice.json["flags"] & EPHEMERAL
    assert notice.json["content"] == t("en", "vote.thanks", label=label_name("en", note.label))


async def test_picking_another_label_through_the_buttons_votes_for_it(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    await _opt_in(world, world.admin)
    answer = await _answer_to(
        world.fake, await world.fake.send_voice_message(world.general, world.admin, ogg, 2.0)
    )
    pick = _custom_ids(answer)[1]
    note_id = int(pick.rsplit(":", 1)[1])

    await _callback(
        world.fake, await world.fake.press_button(pick, answer, world.bob, world.general)
    )
    choices = _custom_ids(world.fake.messages[int(answer["id"])])
    assert f"vm:lab:{note_id}:sad" in choices and f"vm:back:{note_id}" in choices
    vote = await world.fake.press_button(f"vm:lab:{note_id}:sad", answer, world.bob, world.general)
    await _callback(world.fake, vote)

    assert [v.label for v in await service.store.votes(note_id)] == ["sad"]
    assert _custom_ids(world.fake.messages[int(answer["id"])])[0] == f"vm:ok:{note_id}"


async def test_buttons_keep_working_after_the_bot_restarts(
    world: World, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    first = await _start(world, service)
    try:
        answer = await _answer_to(
            world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
        )
    finally:
        await first.stop()
    ok = _custom_ids(answer)[0]

    second = await _start(world, service)
    try:
        await _callback(world.fake, await world.fake.press_button(ok, answer, world.alice, dm))
    finally:
        await second.stop()

    assert len(await service.store.votes(int(ok.rsplit(":", 1)[1]))) == 1


async def test_reaction_on_the_answer_counts_as_a_vote(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    answer = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
    )
    note_id = int(_custom_ids(answer)[0].rsplit(":", 1)[1])
    await _eventually(lambda: _linked(service, note_id))

    await world.fake.react(dm, answer["id"], world.alice, "😢")

    votes = await _eventually(lambda: service.store.votes(note_id))
    assert [v.label for v in votes] == ["sad"]


async def test_taking_a_reaction_away_in_a_server_withdraws_its_vote(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    await _opt_in(world, world.admin)
    answer = await _answer_to(
        world.fake, await world.fake.send_voice_message(world.general, world.admin, ogg, 2.0)
    )
    note_id = int(_custom_ids(answer)[0].rsplit(":", 1)[1])
    await _eventually(lambda: _linked(service, note_id))

    await world.fake.react(world.general, answer["id"], world.alice, "😢")
    await _eventually(lambda: _votes_are(service, note_id, ["sad"]))
    # Discord's removal event names only the user: no member, no message author.
    await world.fake.unreact(world.general, answer["id"], world.alice, "😢")

    await _eventually(lambda: _votes_are(service, note_id, []))


async def test_taking_one_reaction_away_leaves_the_vote_of_a_later_one(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    answer = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
    )
    note_id = int(_custom_ids(answer)[0].rsplit(":", 1)[1])
    await _eventually(lambda: _linked(service, note_id))
    await world.fake.react(dm, answer["id"], world.alice, "😢")
    await _eventually(lambda: _votes_are(service, note_id, ["sad"]))
    await world.fake.react(dm, answer["id"], world.alice, "😠")
    await _eventually(lambda: _votes_are(service, note_id, ["angry"]))
    withdrawals = _results_of(service, "on_reaction_removed")

    await world.fake.unreact(dm, answer["id"], world.alice, "😢")

    async with asyncio.timeout(5):
        assert await withdrawals.get() is False
    assert await _votes_are(service, note_id, ["angry"])
    await world.fake.unreact(dm, answer["id"], world.alice, "😠")
    await _eventually(lambda: _votes_are(service, note_id, []))


async def test_reactions_on_other_peoples_messages_are_not_recorded(
    world: World, bot: DiscordHandle, service: VoiceMoodService
) -> None:
    chatter = await world.fake.send_message(world.general, world.alice, "good morning")

    await world.fake.react(world.general, chatter["id"], world.bob, "😢")
    await _callback(
        world.fake, await world.fake.slash_command("help", {}, world.admin, world.general)
    )

    assert await service.store.get_person("discord", world.bob.id) is None


# Slash commands


async def test_every_command_is_synced_at_start_up(world: World, bot: DiscordHandle) -> None:
    assert set(world.fake.command_names()) == COMMANDS
    synced = {c["name"]: c for c in world.fake.commands[None]}
    assert synced["optin"]["description"] == "analyse my voice notes in this group"
    # Discord hides /analysis from members without Manage Server (the service checks it too).
    needed = int(synced["analysis"]["default_member_permissions"])
    assert needed == discord.Permissions(manage_guild=True).value
    ko = synced["optin"]["description_localizations"]["ko"]
    assert ko == "이 그룹에서 내 음성 메시지 분석하기"


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("help", {}, t("en", "help")),
        ("privacy", {}, t("en", "privacy")),
        ("donate", {"state": "on"}, t("en", "donate.on")),
        ("optout", {}, t("en", "optout.none")),
        ("summary", {"period": "someday"}, t("en", "summary.usage")),
    ],
)
async def test_commands_answer_with_the_services_words(
    world: World,
    bot: DiscordHandle,
    name: str,
    options: dict[str, Any],
    expected: str,
) -> None:
    handle = await world.fake.slash_command(name, options, world.alice, world.general)

    call = await _first_answer(world.fake, handle)

    assert call.json["content"] == expected


async def test_baseline_learns_from_two_voice_messages_and_off_and_forget_delete_it(
    world: World, tmp_path, ogg: bytes
) -> None:
    model = StatsModel()
    async with running_service(model, tmp_path) as service:
        store = service.store
        handle = await _start(world, service)
        try:
            await _opt_in(world, world.alice)
            on = await _callback(world.fake, await _baseline(world, {"state": "on"}))
            for _ in range(2):
                sent = await world.fake.send_voice_message(world.general, world.alice, ogg, 2.0)
                await _answer_to(world.fake, sent)
            status = await _callback(world.fake, await _baseline(world, {}))

            # Personal: only Alice sees her baseline's answers in the server.
            assert on.json["data"]["flags"] & EPHEMERAL
            assert on.json["data"]["content"] == t("en", "baseline.on")
            assert status.json["data"]["content"] == t("en", "baseline.status_on", count=2)
            assert model.baseline_counts == [None, 1]  # the second note met the first's
            assert await _baseline_rows(store, world.alice) == (True, 2)
            await _callback(world.fake, await _baseline(world, {"state": "off"}))
            assert await _baseline_rows(store, world.alice) == (False, None)

            await _callback(world.fake, await _baseline(world, {"state": "on"}))
            sent = await world.fake.send_voice_message(world.general, world.alice, ogg, 2.0)
            await _answer_to(world.fake, sent)
            assert await _baseline_rows(store, world.alice) == (True, 1)
            ask = await world.fake.slash_command("forget", {}, world.alice, world.general)
            await _callback(world.fake, ask)
            question = world.fake.messages[int(_response_message_id(world.fake, ask))]
            yes = f"vm:forget:yes:{world.alice.id}"
            await _callback(
                world.fake,
                await world.fake.press_button(yes, question, world.alice, world.general),
            )
            assert await _baseline_rows(store, world.alice) == (False, None)
        finally:
            await handle.stop()


async def _baseline(world: World, options: dict[str, Any]) -> FakeInteraction:
    return await world.fake.slash_command("baseline", options, world.alice, world.general)


async def _baseline_rows(store: Store, user: FakeUser) -> tuple[bool, int | None]:
    """(whether the baseline consent is in force, how many notes its statistics hold)."""
    person = await store.get_person("discord", user.id)
    if person is None:
        return False, None
    kept = await store.baseline(person, StatsModel.name)
    return await store.baseline_consent(person) is not None, kept.count if kept else None


async def test_personal_answers_are_ephemeral_in_a_server_and_group_ones_are_not(
    world: World, bot: DiscordHandle, service: VoiceMoodService
) -> None:
    privacy = await _callback(
        world.fake, await world.fake.slash_command("privacy", {}, world.alice, world.general)
    )
    optin = await _callback(
        world.fake, await world.fake.slash_command("optin", {}, world.alice, world.general)
    )

    assert privacy.json["data"]["flags"] & EPHEMERAL
    assert not optin.json["data"].get("flags", 0) & EPHEMERAL
    assert optin.json["data"]["content"] == t("en", "optin.done", name="alice")
    person = await service.store.get_person("discord", world.alice.id)
    guild_chat = await service.store.ensure_chat("discord", str(world.guild.id), "group")
    assert person is not None and await service.store.may_analyse(person, guild_chat)


async def test_lang_switches_later_answers_to_korean(world: World, bot: DiscordHandle) -> None:
    dm = world.fake.dm_channel(world.alice)
    lang = await _callback(
        world.fake, await world.fake.slash_command("lang", {"language": "ko"}, world.alice, dm)
    )
    helped = await _callback(
        world.fake, await world.fake.slash_command("help", {}, world.alice, dm)
    )

    assert lang.json["data"]["content"] == t("ko", "lang.done")
    assert helped.json["data"]["content"] == t("ko", "help")


async def test_summary_attaches_the_mood_chart(
    world: World, bot: DiscordHandle, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    await _answer_to(world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0))

    handle = await world.fake.slash_command("summary", {"period": "today"}, world.alice, dm)

    followup = await _first_answer(world.fake, handle)
    (chart,) = followup.files
    assert chart.filename == "mood.png"
    assert mpimg.imread(io.BytesIO(chart.data), format="png").shape[2] in (3, 4)
    assert followup.json["embeds"][0]["image"]["url"] == "attachment://mood.png"


async def test_analysis_is_refused_to_members_without_manage_server(
    world: World, bot: DiscordHandle, service: VoiceMoodService
) -> None:
    by_alice = await _callback(
        world.fake,
        await world.fake.slash_command("analysis", {"state": "off"}, world.alice, world.general),
    )
    guild_chat = await service.store.ensure_chat("discord", str(world.guild.id), "group")
    still_on = (await service.store.chat_settings(guild_chat)).analysis
    by_admin = await _callback(
        world.fake,
        await world.fake.slash_command("analysis", {"state": "off"}, world.admin, world.general),
    )

    assert by_alice.json["data"]["content"] == t("en", "admins_only")
    assert still_on
    assert by_admin.json["data"]["content"] == t("en", "analysis.off")
    assert not (await service.store.chat_settings(guild_chat)).analysis


async def test_digest_is_switched_on_by_an_admin_and_posted_in_the_server_when_due(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    refused = await _callback(
        world.fake,
        await world.fake.slash_command("digest", {"state": "on"}, world.alice, world.general),
    )
    on = await _callback(
        world.fake,
        await world.fake.slash_command(
            "digest", {"state": "on", "time": "21:30"}, world.admin, world.general
        ),
    )
    await _opt_in(world, world.admin)
    await _answer_to(
        world.fake, await world.fake.send_voice_message(world.general, world.admin, ogg, 2.0)
    )
    assert bot.client.digests is not None

    posted = await bot.client.digests.post_due_digests(datetime(2030, 1, 1, 21, 30, tzinfo=UTC))
    again = await bot.client.digests.post_due_digests(datetime(2030, 1, 1, 21, 30, 40, tzinfo=UTC))

    assert refused.json["data"]["content"] == t("en", "admins_only")
    assert on.json["data"]["content"] == t("en", "digest.on", time="21:30")
    assert (posted, again) == (1, 0)
    digest = world.fake.calls_to("POST", f"/channels/{world.general.id}/messages")[-1]
    assert digest.files[0].data.startswith(b"\x89PNG")


async def test_a_digest_whose_minute_was_missed_is_still_posted_once_that_day(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    await _callback(
        world.fake,
        await world.fake.slash_command(
            "digest", {"state": "on", "time": "21:30"}, world.admin, world.general
        ),
    )
    await _opt_in(world, world.admin)
    await _answer_to(
        world.fake, await world.fake.send_voice_message(world.general, world.admin, ogg, 2.0)
    )
    assert bot.client.digests is not None

    # The loop was busy (or the bot restarting) at 21:30: its first look is three minutes late.
    late = await bot.client.digests.post_due_digests(datetime(2030, 1, 1, 21, 33, tzinfo=UTC))
    again = await bot.client.digests.post_due_digests(datetime(2030, 1, 1, 21, 36, tzinfo=UTC))
    next_day = await bot.client.digests.post_due_digests(datetime(2030, 1, 2, 21, 30, tzinfo=UTC))

    assert (late, again, next_day) == (1, 0, 1)


async def test_a_restarted_bot_does_not_post_the_days_digest_again(
    world: World, tiny_model: HFAudioClassifier, tmp_path, ogg: bytes
) -> None:
    async with running_service(tiny_model, tmp_path) as before:
        handle = await _start(world, before)
        try:
            await _digest_on_in(world, world.general, ogg)
            assert handle.client.digests is not None
            posted = await handle.client.digests.post_due_digests(
                datetime(2030, 1, 1, 21, 30, tzinfo=UTC)
            )
        finally:
            await handle.stop()
    # A new process over the same SQLite file, still inside the day's catch-up window.
    async with running_service(tiny_model, tmp_path) as after:
        handle = await _start(world, after)
        try:
            assert handle.client.digests is not None
            again = await handle.client.digests.post_due_digests(
                datetime(2030, 1, 1, 21, 33, tzinfo=UTC)
            )
            next_day = await handle.client.digests.post_due_digests(
                datetime(2030, 1, 2, 21, 30, tzinfo=UTC)
            )
        finally:
            await handle.stop()

    assert (posted, again, next_day) == (1, 0, 1)


async def test_digest_is_posted_in_the_channel_where_it_was_switched_on(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    # #general is the server's home channel (its first); the digest is asked for in #random.
    await _callback(
        world.fake,
        await world.fake.slash_command(
            "digest", {"state": "on", "time": "21:30"}, world.admin, world.random
        ),
    )
    await _opt_in(world, world.admin)
    await _answer_to(
        world.fake, await world.fake.send_voice_message(world.general, world.admin, ogg, 2.0)
    )
    assert bot.client.digests is not None

    posted = await bot.client.digests.post_due_digests(datetime(2030, 1, 1, 21, 30, tzinfo=UTC))

    assert posted == 1
    (digest,) = world.fake.calls_to("POST", f"/channels/{world.random.id}/messages")
    assert digest.status == 200 and digest.files[0].data.startswith(b"\x89PNG")
    assert not [c for c in world.fake.calls_to("POST", f"/channels/{world.general.id}/") if c.files]


async def test_digest_switched_on_before_channels_were_remembered_goes_to_the_system_channel(
    world: World, service: VoiceMoodService, ogg: bytes
) -> None:
    announcements = world.fake.add_text_channel(world.guild, "announcements", system=True)
    handle = await _start(world, service)
    try:
        # Settings as an older VoiceMood stored them: digest on, no channel.
        chat = await service.store.ensure_chat("discord", str(world.guild.id), "group")
        await service.store.set_chat_settings(
            chat, ChatSettings(digest=True, digest_time=time(21, 30))
        )
        await _opt_in(world, world.admin)
        await _answer_to(
            world.fake, await world.fake.send_voice_message(world.general, world.admin, ogg, 2.0)
        )
        assert handle.client.digests is not None

        posted = await handle.client.digests.post_due_digests(
            datetime(2030, 1, 1, 21, 30, tzinfo=UTC)
        )
    finally:
        await handle.stop()

    assert posted == 1
    (digest,) = world.fake.calls_to("POST", f"/channels/{announcements.id}/messages")
    assert digest.files[0].data.startswith(b"\x89PNG")


async def test_digest_whose_channel_is_gone_is_skipped_and_other_chats_still_get_theirs(
    world: World,
    bot: DiscordHandle,
    service: VoiceMoodService,
    ogg: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _digest_on_in(world, world.random, ogg)
    dm = world.fake.dm_channel(world.alice)
    await _answer_to(world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0))
    await _callback(
        world.fake,
        await world.fake.slash_command("digest", {"state": "on", "time": "21:30"}, world.alice, dm),
    )
    await world.fake.delete_channel(world.random)
    await _eventually(lambda: _uncached(bot, world.random))
    assert bot.client.digests is not None

    with caplog.at_level("WARNING", logger="bots.discord"):
        posted = await bot.client.digests.post_due_digests(datetime(2030, 1, 1, 21, 30, tzinfo=UTC))

    assert posted == 1
    assert not world.fake.calls_to("POST", f"/channels/{world.random.id}/")
    (digest,) = [c for c in world.fake.calls_to("POST", f"/channels/{dm.id}/messages") if c.files]
    assert digest.files[0].data.startswith(b"\x89PNG")
    assert f"channel {world.random.id} is gone" in caplog.text
    assert FAKE_TOKEN not in caplog.text


async def test_digest_in_a_channel_the_bot_may_no_longer_write_in_is_skipped(
    world: World,
    bot: DiscordHandle,
    service: VoiceMoodService,
    ogg: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _digest_on_in(world, world.random, ogg)
    await world.fake.set_channel_permissions(
        world.random, world.fake.bot, deny=discord.Permissions(send_messages=True)
    )
    await _eventually(lambda: _may_not_send(bot, world.random))
    assert bot.client.digests is not None

    with caplog.at_level("WARNING", logger="bots.discord"):
        posted = await bot.client.digests.post_due_digests(datetime(2030, 1, 1, 21, 30, tzinfo=UTC))

    assert posted == 0
    assert not world.fake.calls_to("POST", f"/channels/{world.random.id}/")
    assert f"may not post a chart in channel {world.random.id}" in caplog.text


async def test_forget_asks_first_and_deletes_everything_on_yes(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    await _answer_to(world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0))
    ask = await world.fake.slash_command("forget", {}, world.alice, world.general)
    confirm = await _callback(world.fake, ask)
    question = world.fake.messages[int(_response_message_id(world.fake, ask))]
    yes = f"vm:forget:yes:{world.alice.id}"
    assert confirm.json["data"]["flags"] & EPHEMERAL and yes in _custom_ids(question)

    done = await _callback(
        world.fake, await world.fake.press_button(yes, question, world.alice, world.general)
    )

    assert done.json["type"] == 7
    assert done.json["data"]["content"] == t("en", "forget.done", notes=1, votes=0, audio=0)
    assert done.json["data"]["components"] == []
    assert await service.store.get_person("discord", world.alice.id) is None


# Joining a server


async def test_joining_a_server_posts_the_intro_with_an_opt_in_button(
    world: World, bot: DiscordHandle, ogg: bytes
) -> None:
    newcomer = world.fake.add_user("newcomer")
    guild = world.fake.add_guild("Fresh Server", owner=newcomer)
    lobby = world.fake.add_text_channel(guild, "lobby")

    await world.fake.join_guild(guild)

    intro_call = await world.fake.wait_for_call("POST", f"/channels/{lobby.id}/messages")
    intro = next(m for m in world.fake.messages.values() if m["channel_id"] == str(lobby.id))
    assert intro_call.json["content"] == t("en", "group.intro")
    assert _custom_ids(intro) == ["vm:optin"]
    press = await world.fake.press_button("vm:optin", intro, newcomer, lobby)
    await world.fake.wait_for_call("POST", f"/interactions/{press.id}/")
    sent = await world.fake.send_voice_message(lobby, newcomer, ogg, 2.0)
    assert (await _answer_to(world.fake, sent))["embeds"]


# Start-up


async def test_start_discord_points_discord_py_at_the_given_urls_and_restores_them(
    world: World, service: VoiceMoodService
) -> None:
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)

    handle = await _start(world, service)
    during = (discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))
    await handle.stop()

    assert during == (world.fake.rest_base, world.fake.gateway_url)
    assert world.fake.gateway_connections[0].path == "/gateway/"
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    assert handle.task.done()


# Helpers


async def _start(world: World, service: VoiceMoodService) -> DiscordHandle:
    return await start_discord(
        service,
        FAKE_TOKEN,
        api_base=world.fake.rest_base,
        gateway=world.fake.gateway_url,
        guild_ready_timeout=0.1,
    )


async def _answer_to(
    fake: FakeDiscord,
    message: Mapping[str, Any],
    timeout: float = 20,  # noqa: ASYNC109
) -> dict[str, Any]:
    """The bot's reply to `message`, once it has been sent."""

    def replies(call: Call) -> bool:
        if call.method != "POST" or not isinstance(call.json, dict):
            return False
        reference = call.json.get("message_reference") or {}
        return str(reference.get("message_id")) == message["id"]

    await fake.wait_for(replies, timeout)
    return next(
        m
        for m in fake.messages.values()
        if m["author"]["id"] == str(fake.bot.id)
        and str((m.get("message_reference") or {}).get("message_id")) == message["id"]
    )


async def _callback(fake: FakeDiscord, handle: FakeInteraction) -> Call:
    """The bot's initial response to an interaction."""
    return await fake.wait_for_call("POST", f"/interactions/{handle.id}/{handle.token}/callback")


async def _first_answer(fake: FakeDiscord, handle: FakeInteraction) -> Call:
    """The message an interaction was answered with: the callback, or the followup after a defer."""
    callback = await _callback(fake, handle)
    if callback.json["type"] != 5:
        return replace(callback, json=callback.json["data"])
    return await fake.wait_for_call("POST", f"/webhooks/{fake.application_id}/{handle.token}")


def _response_message_id(fake: FakeDiscord, handle: FakeInteraction) -> int:
    """The id of the message the bot answered an interaction with."""
    return next(
        int(m["id"])
        for m in fake.messages.values()
        if (m.get("interaction_metadata") or {}).get("id") == str(handle.id)
    )


async def _opt_in(world: World, user: FakeUser) -> None:
    handle = await world.fake.slash_command("optin", {}, user, world.general)
    await _callback(world.fake, handle)


async def _digest_on_in(world: World, channel: FakeChannel, ogg: bytes) -> None:
    """The admin switches the server's digest on (21:30) in `channel`; the day has one note."""
    await _callback(
        world.fake,
        await world.fake.slash_command(
            "digest", {"state": "on", "time": "21:30"}, world.admin, channel
        ),
    )
    await _opt_in(world, world.admin)
    await _answer_to(
        world.fake, await world.fake.send_voice_message(world.general, world.admin, ogg, 2.0)
    )


async def _uncached(bot: DiscordHandle, channel: FakeChannel) -> bool:
    return bot.client.get_channel(channel.id) is None


async def _may_not_send(bot: DiscordHandle, channel: FakeChannel) -> bool:
    guild = bot.client.get_guild(channel.guild_id or 0)
    seen = guild.get_channel(channel.id) if guild else None
    assert isinstance(seen, discord.TextChannel) and guild is not None
    return not seen.permissions_for(guild.me).send_messages


def _custom_ids(message: Mapping[str, Any]) -> list[str]:
    return [
        button["custom_id"]
        for row in message.get("components", [])
        for button in row.get("components", [])
    ]


async def _dm_chat(service: VoiceMoodService, dm: FakeChannel) -> Chat:
    return await service.store.ensure_chat("discord", str(dm.id), "private")


async def _linked(service: VoiceMoodService, note_id: int) -> bool:
    return (await service.store.get_note(note_id)).reply_message_id is not None


async def _votes_are(service: VoiceMoodService, note_id: int, labels: list[str]) -> bool:
    return [v.label for v in await service.store.votes(note_id)] == labels


def _results_of(service: VoiceMoodService, method: str) -> asyncio.Queue[Any]:
    """What the service's `method` returns each time the bot calls it (it still does its work)."""
    results: asyncio.Queue[Any] = asyncio.Queue()
    real = getattr(service, method)

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        results.put_nowait(result)
        return result

    setattr(service, method, recorded)
    return results


async def _eventually(
    check: Callable[[], Awaitable[Any]],
    timeout: float = 5,  # noqa: ASYNC109
) -> Any:
    """Poll `check` until it returns something truthy (what the bot does after replying is async)."""
    async with asyncio.timeout(timeout):
        while not (result := await check()):  # noqa: ASYNC110 - the database signals nothing
            await asyncio.sleep(0.02)
    return result

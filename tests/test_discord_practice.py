"""/practice through discord.py against the fake Discord, in DMs, in English and Korean.

Uses the fixtures of tests/test_discord_bot.py (the real client, service and SQLite file).
"""

# The fixtures are imported from the bot's own test module, so pytest sees them as arguments.
# ruff: noqa: F811
from __future__ import annotations

from bots.core.service import VoiceMoodService
from bots.discord.app import DiscordHandle
from bots.i18n import t
from tests.fakes.discord import EPHEMERAL
from tests.test_discord_bot import (  # noqa: F401  (fixtures)
    World,
    _answer_to,
    _callback,
    _custom_ids,
    _first_answer,
    bot,
    ogg,
    service,
    tiny_model,
    world,
)

BUTTONS = ["vm:practice:next", "vm:practice:stop"]


async def test_practice_in_a_dm_round_attempt_next_and_stop(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    start = await _first_answer(
        world.fake, await world.fake.slash_command("practice", {"step": "angry"}, world.alice, dm)
    )
    assert "Practice 1: say this so it sounds 😠 angry" in start.json["content"]
    assert _custom_ids(start.json) == BUTTONS

    sent = await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
    attempt = await _answer_to(world.fake, sent)
    text = attempt["embeds"][0]["description"]
    assert text.startswith(("I heard", "🤔 I'm not sure what I heard"))
    assert "Your angry score so far: " in text and " of 1." in text
    assert _custom_ids(attempt) == BUTTONS
    person = await service.store.get_person("discord", str(world.alice.id))
    assert person is not None and await service.store.person_notes(person) == []

    press = await world.fake.press_button("vm:practice:next", attempt, world.alice, dm)
    edit = await _callback(world.fake, press)
    assert edit.json["type"] == 7 and edit.json["data"]["components"] == []
    second = await world.fake.wait_for_call(
        "POST", f"/webhooks/{world.fake.application_id}/{press.token}"
    )
    assert "Practice 2" in second.json["content"]
    assert _custom_ids(second.json) == BUTTONS

    summary = await _first_answer(
        world.fake, await world.fake.slash_command("practice", {"step": "stop"}, world.alice, dm)
    )
    assert summary.json["content"].startswith("🏁 Practice finished. Recordings heard: 1.")
    (score,) = await service.store.practice.scores(person)
    assert (score.tone, score.attempts) == ("angry", 1)


async def test_practice_in_korean_ends_with_the_stop_button_and_its_summary(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.bob)
    await _callback(
        world.fake, await world.fake.slash_command("lang", {"language": "ko"}, world.bob, dm)
    )
    start = await _first_answer(
        world.fake, await world.fake.slash_command("practice", {"step": "sad"}, world.bob, dm)
    )
    assert "연습 1: 이 문장을 😢 슬픔 톤으로 말해 보세요" in start.json["content"]

    attempt = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.bob, ogg, 2.0)
    )
    assert "지금까지 슬픔 점수: 1번 중 " in attempt["embeds"][0]["description"]

    press = await world.fake.press_button("vm:practice:stop", attempt, world.bob, dm)
    await _callback(world.fake, press)
    summary = await world.fake.wait_for_call(
        "POST", f"/webhooks/{world.fake.application_id}/{press.token}"
    )
    assert "연습을 마쳤어요. 들은 녹음: 1개." in summary.json["content"]
    assert "😢 슬픔: 1번 중 " in summary.json["content"]
    person = await service.store.get_person("discord", str(world.bob.id))
    assert person is not None and await service.practice.current(person) is None


async def test_practice_in_a_server_is_a_polite_private_note_to_the_asker(
    world: World, bot: DiscordHandle, service: VoiceMoodService
) -> None:
    handle = await world.fake.slash_command("practice", {}, world.alice, world.general)
    answer = await _first_answer(world.fake, handle)
    assert answer.json["content"] == t("en", "private_only")
    assert answer.json["flags"] & EPHEMERAL
    person = await service.store.get_person("discord", str(world.alice.id))
    assert person is not None and await service.store.practice.session(person) is None

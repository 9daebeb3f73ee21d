"""The 🎵 Music button and /music through discord.py against the fake Discord, in English and Korean.

Uses the fixtures of tests/test_discord_bot.py (the real client, service and SQLite file).
"""

# The fixtures are imported from the bot's own test module, so pytest sees them as arguments.
# ruff: noqa: F811
from __future__ import annotations

from bots.core.service import VoiceMoodService
from bots.discord.app import DiscordHandle
from bots.i18n import t
from inference.music import load_catalogue
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

LINKS = {song.link for song in load_catalogue()}


def _links(text: str) -> list[str]:
    return [word for word in text.split() if word.startswith("https://")]


async def _press_music(world: World, answer, user, channel) -> tuple[str, str]:
    """Press 🎵 under `answer`: (the notice only the presser sees, the songs for everyone)."""
    music = _custom_ids(answer)[2]
    assert music.startswith("vm:music:")
    press = await world.fake.press_button(music, answer, user, channel)
    notice = await _callback(world.fake, press)
    assert notice.json["data"]["flags"] & EPHEMERAL
    songs = await world.fake.wait_for_call(
        "POST", f"/webhooks/{world.fake.application_id}/{press.token}"
    )
    assert not songs.json.get("flags", 0) & EPHEMERAL
    return notice.json["data"]["content"], songs.json["content"]


async def test_music_button_in_a_dm_sends_three_catalogue_songs_and_lift_changes_them(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    answer = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
    )

    notice, first = await _press_music(world, answer, world.alice, dm)

    assert notice == t("en", "music.notice")
    assert first.startswith("🎵 Three songs near how this note sounds (")
    assert len(_links(first)) == 3 and set(_links(first)) <= LINKS

    lift = await _first_answer(
        world.fake, await world.fake.slash_command("music", {"mode": "lift"}, world.alice, dm)
    )
    assert lift.json["content"] == t("en", "music.set.lift")
    _, second = await _press_music(world, answer, world.alice, dm)
    assert second.startswith("🎵 Three songs a step from how this note sounds (")
    assert not set(_links(first)) & set(_links(second))
    person = await service.store.get_person("discord", str(world.alice.id))
    assert person is not None and await service.store.music.mode(person) == "lift"


async def test_music_in_korean_through_the_button_and_the_slash_command(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.bob)
    await _callback(
        world.fake, await world.fake.slash_command("lang", {"language": "ko"}, world.bob, dm)
    )
    answer = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.bob, ogg, 2.0)
    )

    notice, songs = await _press_music(world, answer, world.bob, dm)
    command = await _first_answer(
        world.fake, await world.fake.slash_command("music", {}, world.bob, dm)
    )

    assert notice == t("ko", "music.notice")
    assert songs.startswith("🎵 이 메시지의 목소리 톤(")
    assert len(_links(songs)) == 3 and set(_links(songs)) <= LINKS
    assert command.json["content"].startswith("🎵 이 메시지의 목소리 톤(")
    assert not set(_links(command.json["content"])) & set(_links(songs))


async def test_music_command_in_a_server_answers_only_the_asker(
    world: World, bot: DiscordHandle, service: VoiceMoodService
) -> None:
    handle = await world.fake.slash_command("music", {"mode": "lift"}, world.alice, world.general)

    answer = await _first_answer(world.fake, handle)

    assert answer.json["content"] == t("en", "music.set.lift")
    assert answer.json["flags"] & EPHEMERAL

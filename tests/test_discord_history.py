"""/history, /export and /words through discord.py against the fake Discord.

Uses the fixtures of tests/test_discord_bot.py (the real client, service and SQLite file).
"""

# The fixtures are imported from the bot's own test module, so pytest sees them as arguments.
# ruff: noqa: F811
from __future__ import annotations

import io
import json

import matplotlib.image as mpimg

from bots.core.service import VoiceMoodService
from bots.discord.app import DiscordHandle
from bots.i18n import label_name, t
from tests.fakes.discord import EPHEMERAL
from tests.test_discord_bot import (  # noqa: F401  (fixtures)
    World,
    _answer_to,
    _callback,
    _first_answer,
    bot,
    ogg,
    service,
    tiny_model,
    world,
)


async def test_history_attaches_my_own_chart_in_english_and_korean(
    world: World, bot: DiscordHandle, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    await _answer_to(world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0))
    bobs = world.fake.dm_channel(world.bob)
    for _ in range(2):  # Bob's notes are never in Alice's chart
        await _answer_to(world.fake, await world.fake.send_voice_message(bobs, world.bob, ogg, 2.0))

    english = await _first_answer(
        world.fake, await world.fake.slash_command("history", {}, world.alice, dm)
    )
    await _callback(
        world.fake, await world.fake.slash_command("lang", {"language": "ko"}, world.alice, dm)
    )
    korean = await _first_answer(
        world.fake, await world.fake.slash_command("history", {"period": "month"}, world.alice, dm)
    )

    week = t("en", "history.period.week")
    assert english.json["embeds"][0]["description"].startswith(
        t("en", "history.title", period=week)
    )
    assert "1 voice note." in english.json["embeds"][0]["description"]
    assert korean.json["embeds"][0]["description"].startswith(
        t("ko", "history.title", period=t("ko", "history.period.month"))
    )
    for answer in (english, korean):
        (chart,) = answer.files
        assert mpimg.imread(io.BytesIO(chart.data), format="png").shape[2] in (3, 4)


async def test_history_export_and_words_in_a_server_are_only_a_polite_note_to_the_asker(
    world: World, bot: DiscordHandle
) -> None:
    for name, options in (("history", {}), ("export", {}), ("words", {"tone": "angry"})):
        handle = await world.fake.slash_command(name, options, world.alice, world.general)
        answer = await _first_answer(world.fake, handle)
        assert answer.json["content"] == t("en", "private_only"), name
        assert answer.json["flags"] & EPHEMERAL, name
        assert not answer.files, name


async def test_export_attaches_a_csv_and_a_json_of_everything_kept_about_me(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    await _answer_to(world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0))
    await _callback(
        world.fake,
        await world.fake.slash_command("words", {"tone": "sad", "word": "low"}, world.alice, dm),
    )

    answer = await _first_answer(
        world.fake, await world.fake.slash_command("export", {}, world.alice, dm)
    )

    assert answer.json["content"] == t("en", "export.done")
    files = {f.filename: f.data for f in answer.files}
    assert set(files) == {"voicemood-export.csv", "voicemood-export.json"}
    document = json.loads(files["voicemood-export.json"])
    assert document["person"]["user_id"] == str(world.alice.id)
    assert len(document["notes"]) == 1 and document["words"] == {"sad": "low"}
    assert files["voicemood-export.csv"].decode("utf-8-sig").startswith("part,id,time_utc")


async def test_words_rename_a_tone_in_my_answers_in_english_and_korean(
    world: World, bot: DiscordHandle, service: VoiceMoodService, ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    sent = await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
    first = (await _answer_to(world.fake, sent))["embeds"][0]["description"]
    chat = await service.store.ensure_chat("discord", str(dm.id), "private")
    label = (await service.store.find_note(chat, sent["id"])).label

    done = await _callback(
        world.fake,
        await world.fake.slash_command("words", {"tone": label, "word": "wobbly"}, world.alice, dm),
    )
    second = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.alice, ogg, 2.0)
    )
    await _callback(
        world.fake, await world.fake.slash_command("lang", {"language": "ko"}, world.alice, dm)
    )
    listed = await _callback(
        world.fake, await world.fake.slash_command("words", {}, world.alice, dm)
    )

    assert done.json["data"]["content"] == t(
        "en", "words.set", word="wobbly", label=label_name("en", label)
    )
    assert second["embeds"][0]["description"] == first.replace(label_name("en", label), "wobbly")
    assert listed.json["data"]["content"] == t(
        "ko", "words.list", items=f"{label_name('ko', label)} → wobbly"
    )

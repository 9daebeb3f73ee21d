"""/transcript through discord.py against the fake Discord: the real packaged Whisper-base writes
down a held-out RAVDESS actor under the tone, in a DM and (once an admin allows it) in a server,
and the words are never stored.

Uses the fixtures of tests/test_discord_bot.py and tests/test_transcript.py.
"""

# The fixtures are imported from other test modules, so pytest sees them as arguments.
# ruff: noqa: F811
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.core.service import VoiceMoodService
from bots.discord.app import DiscordHandle
from bots.i18n import t
from inference.transcript import Transcriber, character_error_rate
from tests.service_factory import running_service
from tests.stats_model import StatsModel
from tests.test_discord_bot import (  # noqa: F401  (fixtures)
    World,
    _answer_to,
    _callback,
    _opt_in,
    _start,
    world,
)
from tests.test_transcript import (  # noqa: F401  (fixtures)
    KIDS,
    _database_text,
    kids_clip,
    kids_ogg,
    transcriber,
)

# The first transcript loads the model on a busy 2-core machine; answers may take seconds.
SLOW_S = 60.0


@pytest.fixture
async def service(tmp_path: Path, transcriber: Transcriber) -> AsyncIterator[VoiceMoodService]:
    async with running_service(StatsModel(), tmp_path) as built:
        built.transcripts.transcriber = transcriber
        yield built


@pytest.fixture
async def bot(world: World, service: VoiceMoodService) -> AsyncIterator[DiscordHandle]:
    handle = await _start(world, service)
    yield handle
    await handle.stop()


async def test_transcript_on_in_a_dm_shows_the_words_under_the_tone_and_keeps_none(
    world: World, bot: DiscordHandle, kids_ogg: bytes, tmp_path: Path
) -> None:
    dm = world.fake.dm_channel(world.alice)
    before = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.alice, kids_ogg, 4.0)
    )
    on = await _callback(
        world.fake, await world.fake.slash_command("transcript", {"state": "on"}, world.alice, dm)
    )
    sent = await world.fake.send_voice_message(dm, world.alice, kids_ogg, 4.0)
    answer = await _answer_to(world.fake, sent, timeout=SLOW_S)
    await _callback(
        world.fake, await world.fake.slash_command("transcript", {"state": "off"}, world.alice, dm)
    )
    after = await _answer_to(
        world.fake, await world.fake.send_voice_message(dm, world.alice, kids_ogg, 4.0)
    )

    assert on.json["data"]["content"] == t("en", "transcript.on")
    tone, _, words = _text(answer).partition("📝 ")
    assert tone.strip() == _text(before).strip()  # the tone first, as without the words
    assert character_error_rate(KIDS, words) < 0.25, words
    assert "📝" not in _text(before) and "📝" not in _text(after)
    # Shown, never stored: no column of the database holds the words, no audio was kept.
    assert "talking" not in _database_text(tmp_path).lower()
    assert not list((tmp_path / "data").rglob("*.ogg"))


async def test_in_a_server_words_are_shown_only_once_an_admin_allows_them(
    world: World, bot: DiscordHandle, kids_ogg: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    await _callback(
        world.fake, await world.fake.slash_command("transcript", {"state": "on"}, world.alice, dm)
    )
    await _opt_in(world, world.alice)
    refused = await _callback(
        world.fake,
        await world.fake.slash_command("transcript", {"state": "on"}, world.alice, world.general),
    )
    before = await _answer_to(
        world.fake, await world.fake.send_voice_message(world.general, world.alice, kids_ogg, 4.0)
    )
    allowed = await _callback(
        world.fake,
        await world.fake.slash_command("transcript", {"state": "on"}, world.admin, world.general),
    )
    sent = await world.fake.send_voice_message(world.general, world.alice, kids_ogg, 4.0)
    answer = await _answer_to(world.fake, sent, timeout=SLOW_S)

    assert refused.json["data"]["content"] == t("en", "admins_only")
    assert allowed.json["data"]["content"] == t("en", "transcript.chat_on")
    assert "📝" not in _text(before)
    assert "📝" in _text(answer) and "door" in _text(answer).lower()


def _text(message: dict[str, object]) -> str:
    """What a person reads in an answer: its content and its embeds' descriptions."""
    parts = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:  # type: ignore[attr-defined]
        parts.append(str(embed.get("description") or ""))
    return "\n".join(p for p in parts if p)

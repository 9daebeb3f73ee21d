"""Video attachments through discord.py against the fake Discord (a real face photo moving across
real H.264 frames, with a voice track): heard by their sound with the /face hint once in a DM,
their faces read by the real detector and expression network once /face is on, and in a server
only for members who opted in there.

Uses the fixtures of tests/test_discord_bot.py.
"""

# The fixtures are imported from other test modules, so pytest sees them as arguments.
# ruff: noqa: F811
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bots.core.service import VoiceMoodService
from bots.discord.app import DiscordHandle
from bots.i18n import t
from tests import audio_factory, face_factory
from tests.fakes.discord import FakeChannel, FakeUser
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

SEEN = re.compile(r"seen in (\d+) of (\d+) frames")
# The first face reading loads the expression network on a busy 2-core machine.
SLOW_S = 60.0


@pytest.fixture
def face_mp4(ffmpeg: str, tmp_path: Path) -> bytes:
    voice = audio_factory.speechlike(4.0, seed=5)
    path = tmp_path / "face.mp4"
    return face_factory.moving_photo_video(
        ffmpeg, face_factory.hopper(), path, voice=voice
    ).read_bytes()


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[VoiceMoodService]:
    async with running_service(StatsModel(), tmp_path) as built:
        yield built


@pytest.fixture
async def bot(world: World, service: VoiceMoodService) -> AsyncIterator[DiscordHandle]:
    handle = await _start(world, service)
    yield handle
    await handle.stop()


async def test_a_video_attachment_in_a_dm_is_heard_by_its_sound_with_the_face_hint_once(
    world: World, bot: DiscordHandle, face_mp4: bytes
) -> None:
    dm = world.fake.dm_channel(world.alice)
    first = await _answer_to(
        world.fake, await _post_video(world, dm, world.alice, face_mp4), timeout=SLOW_S
    )
    second = await _answer_to(
        world.fake, await _post_video(world, dm, world.alice, face_mp4), timeout=SLOW_S
    )
    on = await _callback(
        world.fake, await world.fake.slash_command("face", {"state": "on"}, world.alice, dm)
    )
    sent = await _post_video(world, dm, world.alice, face_mp4)
    read = await _answer_to(world.fake, sent, timeout=SLOW_S)

    assert "tone" in _text(first) and t("en", "face.hint") in _text(first)
    assert "tone" in _text(second) and t("en", "face.hint") not in _text(second)
    assert on.json["data"]["content"] == t("en", "face.on")
    found = SEEN.search(_text(read))
    assert found is not None, _text(read)
    assert int(found[2]) >= 10 and int(found[1]) >= int(found[2]) * 0.8
    assert "the voice sounds" in _text(read).lower()


async def test_in_a_server_only_a_member_who_opted_in_has_their_video_heard_and_its_face_read(
    world: World, bot: DiscordHandle, face_mp4: bytes
) -> None:
    for member in (world.alice, world.bob):
        dm = world.fake.dm_channel(member)
        await _callback(
            world.fake, await world.fake.slash_command("face", {"state": "on"}, member, dm)
        )
    await _opt_in(world, world.alice)
    unheard = await _post_video(world, world.general, world.bob, face_mp4)
    sent = await _post_video(world, world.general, world.alice, face_mp4)
    heard = await _answer_to(world.fake, sent, timeout=SLOW_S)

    assert SEEN.search(_text(heard)), _text(heard)
    replies = [
        c
        for c in world.fake.calls_to("POST", f"/channels/{world.general.id}/messages")
        if isinstance(c.json, dict)
        and str((c.json.get("message_reference") or {}).get("message_id")) == unheard["id"]
    ]
    assert replies == []


async def _post_video(
    world: World, channel: FakeChannel, author: FakeUser, data: bytes
) -> dict[str, Any]:
    attachment = world.fake.add_attachment(data, "clip.mp4", "video/mp4")
    return await world.fake.send_message(channel, author, attachments=[attachment])


def _text(message: dict[str, Any]) -> str:
    """What a person reads in an answer: its content and its embeds' descriptions."""
    parts = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:
        parts.append(str(embed.get("description") or ""))
    return "\n".join(p for p in parts if p)

"""Video notes through the real PTB client against the fake Bot API: /face on and off and its
one hint; round video notes and video messages (a real face photo moving across real H.264
frames, with a voice track: tests/face_factory.py) heard by their sound, and with /face on their faces read by the real
detector and expression network; a video without a face, a corrupt one, a group member who never
opted in, /forget, and a donated video note that keeps its sound only."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from logging import ERROR
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bots.core.service import VoiceMoodService
from bots.i18n import t
from bots.telegram.app import TelegramHandle
from inference.audio import decode
from tests import audio_factory, face_factory
from tests.fakes.telegram import Call, FakeTelegram, group_chat, make_user, private_chat
from tests.service_factory import running_service
from tests.stats_model import StatsModel
from tests.test_telegram_bot import _answer_to, _buttons, _start

ALICE = make_user(1001, "Alice", username="alice")
MINJUN = make_user(1002, "민준", username="minjun", language_code="ko")
BORA = make_user(1003, "Bora", username="bora")
DM = private_chat(ALICE)
GROUP = group_chat(-1001234567890, "Mood club")
# "seen in 12 of 12 frames": the face line's count of frames with a face.
SEEN = re.compile(r"seen in (\d+) of (\d+) frames")
# The first face reading loads the expression network on a busy 2-core machine.
SLOW_S = 60.0


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    return audio_factory.speechlike(4.0, seed=3)


@pytest.fixture
def face_mp4(ffmpeg, voice, tmp_path) -> bytes:
    path = tmp_path / "face.mp4"
    return face_factory.moving_photo_video(
        ffmpeg, face_factory.hopper(), path, voice=voice
    ).read_bytes()


@pytest.fixture
def empty_room_mp4(ffmpeg, voice, tmp_path) -> bytes:
    # A temple among trees, moving as the portrait does: the detector finds no face in it.
    path = tmp_path / "room.mp4"
    return face_factory.moving_photo_video(
        ffmpeg, face_factory.china(), path, voice=voice
    ).read_bytes()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def service(tmp_path) -> AsyncIterator[VoiceMoodService]:
    async with running_service(StatsModel(), tmp_path) as built:
        yield built


@pytest.fixture
async def bot(service, fake, caplog) -> AsyncIterator[TelegramHandle]:
    handle = await _start(service, fake)
    yield handle
    await handle.stop()
    errors = [r for r in caplog.records if r.name == "bots.telegram_bot" and r.levelno >= ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def test_a_round_video_note_gets_the_voice_answer_and_once_the_hint_about_face(
    bot, fake, face_mp4
):
    first = await _slow_answer(fake, fake.send_video_note(DM, ALICE, face_mp4, duration=4))
    second = await _slow_answer(fake, fake.send_video_note(DM, ALICE, face_mp4, duration=4))
    status_off = await _answer_to(fake, fake.send_text(DM, ALICE, "/face"))
    on = await _answer_to(fake, fake.send_text(DM, ALICE, "/face on"))
    status_on = await _answer_to(fake, fake.send_text(DM, ALICE, "/face"))
    off = await _answer_to(fake, fake.send_text(DM, ALICE, "/face off"))
    wrong = await _answer_to(fake, fake.send_text(DM, ALICE, "/face maybe"))

    voice_line, hint = first.params["text"].split("\n\n")
    assert "tone" in voice_line and "face" not in voice_line
    assert hint == t("en", "face.hint")  # once...
    assert second.params["text"] == voice_line  # ...and never again
    assert _buttons(second)  # a stored note the sender can correct, as a voice note is
    assert (status_off.params["text"], on.params["text"]) == (
        t("en", "face.status_off"),
        t("en", "face.on"),
    )
    assert (status_on.params["text"], off.params["text"]) == (
        t("en", "face.status_on"),
        t("en", "face.off"),
    )
    assert wrong.params["text"] == t("en", "face.usage")


async def test_with_face_on_a_round_video_note_also_says_how_the_face_looks_and_meets_the_voice(
    bot, fake, service, face_mp4
):
    before = await _slow_answer(fake, fake.send_video_note(DM, ALICE, face_mp4, duration=4))
    await _answer_to(fake, fake.send_text(DM, ALICE, "/face on"))
    read = await _slow_answer(fake, fake.send_video_note(DM, ALICE, face_mp4, duration=4))
    await _answer_to(fake, fake.send_text(DM, ALICE, "/face off"))
    after = await _slow_answer(fake, fake.send_video_note(DM, ALICE, face_mp4, duration=4))

    voice_line = before.params["text"].split("\n\n")[0]
    text = read.params["text"]
    assert text.startswith(f"{voice_line}\n\n")  # the voice's answer first, as without a face
    found = SEEN.search(text)
    assert found is not None, text
    with_face, frames = int(found[1]), int(found[2])
    assert frames >= 10 and with_face >= frames * 0.8  # the photo is found on most frames
    assert "the voice sounds" in text.lower()  # joined, or said to disagree
    assert t("en", "face.hint") not in text
    assert _buttons(read)  # a stored note the sender can correct
    assert after.params["text"] == voice_line  # off again: the voice alone, no second hint
    # Shown once, never kept: the stored answer (redrawn after a vote) is the voice's alone.
    chat = await service.store.ensure_chat("telegram", str(ALICE["id"]), "private")
    assert all("face" not in (n.answer_text or "") for n in await service.store.chat_notes(chat))


async def test_a_video_message_is_heard_by_its_sound_and_its_answer_kept_without_audio(
    bot, fake, service, face_mp4
):
    answer = await _slow_answer(fake, fake.send_video(DM, ALICE, face_mp4, duration=4))

    assert "tone" in answer.params["text"]
    chat = await service.store.ensure_chat("telegram", str(ALICE["id"]), "private")
    (note,) = await service.store.chat_notes(chat)
    assert abs(note.duration_s - 4.0) < 0.1
    assert note.audio_path is None  # nothing donated, nothing kept


async def test_a_video_without_a_face_says_so_and_a_corrupt_one_gets_a_clear_answer(
    bot, fake, face_mp4, empty_room_mp4
):
    await _answer_to(fake, fake.send_text(DM, MINJUN, "/face on"))
    no_face = await _slow_answer(fake, fake.send_video(DM, MINJUN, empty_room_mp4, duration=4))
    broken = await _slow_answer(
        fake, fake.send_video_note(DM, MINJUN, face_mp4[len(face_mp4) // 2 :], duration=4)
    )

    # In Korean, as 민준's client is: no face found, so the answer is the voice's alone.
    voice_part, face_part = no_face.params["text"].split("\n\n")
    assert face_part == t("ko", "face.none")
    assert voice_part and "얼굴" not in voice_part
    assert broken.params["text"] == t("ko", "error.undecodable")


async def test_a_group_member_who_never_opted_in_has_nothing_read_even_with_face_on(
    bot, fake, service, face_mp4
):
    fake.add_member(GROUP, BORA, "member")
    fake.add_member(GROUP, ALICE, "member")
    await _answer_to(fake, fake.send_text(DM, BORA, "/face on"))
    unheard = fake.send_video_note(GROUP, BORA, face_mp4, duration=4)
    await _answer_to(fake, fake.send_text(GROUP, ALICE, "/optin"))
    await _answer_to(fake, fake.send_text(DM, ALICE, "/face on"))
    heard = await _slow_answer(fake, fake.send_video_note(GROUP, ALICE, face_mp4, duration=4))

    assert SEEN.search(heard.params["text"]), heard.params["text"]
    assert not [c for c in fake.sent if _replies(c, unheard)]
    # Bora's video was never even downloaded: only Alice's was.
    assert len(fake.downloads) == 1
    group = await service.store.ensure_chat("telegram", str(GROUP["id"]), "group")
    assert len(await service.store.chat_notes(group)) == 1


async def test_forget_removes_the_face_choice(bot, fake, tmp_path):
    await _answer_to(fake, fake.send_text(DM, ALICE, "/face on"))
    assert _face_rows(tmp_path) == 1

    ask = await _answer_to(fake, fake.send_text(DM, ALICE, "/forget"))
    fake.press_button(DM, ALICE, ask.result["message_id"], _buttons(ask)[0]["callback_data"])
    await fake.wait_for("editMessageText")

    assert _face_rows(tmp_path) == 0
    status = await _answer_to(fake, fake.send_text(DM, ALICE, "/face"))
    assert status.params["text"] == t("en", "face.status_off")


async def test_a_donated_video_note_keeps_its_sound_only(bot, fake, service, face_mp4, tmp_path):
    await _answer_to(fake, fake.send_text(DM, ALICE, "/donate on"))
    await _answer_to(fake, fake.send_text(DM, ALICE, "/face on"))
    read = await _slow_answer(fake, fake.send_video_note(DM, ALICE, face_mp4, duration=4))
    assert SEEN.search(read.params["text"]), read.params["text"]

    chat = await service.store.ensure_chat("telegram", str(ALICE["id"]), "private")
    (note,) = await service.store.chat_notes(chat)
    assert note.audio_path is not None and note.audio_path.endswith(".flac")
    kept = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert [p.suffix for p in kept] == [".flac"]
    sound = kept[0].read_bytes()
    assert sound.startswith(b"fLaC") and b"ftyp" not in sound  # no mp4 box, no H.264 stream
    assert abs(decode(sound).duration_s - 4.0) < 0.1  # the whole sound track
    # Nothing of the video in the database either.
    assert not _tables_holding(tmp_path / "db.sqlite3", face_mp4[1000:1064])


async def _slow_answer(fake: FakeTelegram, update: dict[str, Any]) -> Call:
    """The bot's answer to a video: slower than a voice note's on a busy 2-core machine (an
    ffmpeg child for its sound, and with /face on one for its frames and the face model)."""
    return await fake.wait_for(lambda c: _replies(c, update), timeout=SLOW_S)


def _replies(call: Call, update: dict[str, Any]) -> bool:
    message = update["message"]
    quoted = call.params.get("reply_parameters") or {}
    return (
        call.method == "sendMessage"
        and call.params.get("chat_id") == message["chat"]["id"]
        and quoted.get("message_id") == message["message_id"]
    )


def _face_rows(folder: Path) -> int:
    with sqlite3.connect(folder / "db.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM face_choices").fetchone()[0])


def _tables_holding(database: Path, needle: bytes) -> list[str]:
    """Tables with a value holding `needle`."""
    found = []
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    if needle in raw:
                        found.append(table)
    return found

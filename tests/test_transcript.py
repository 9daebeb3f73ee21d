"""The optional transcript: the real packaged Whisper-base writing down real speech, and
/transcript through the real PTB client against the fake Bot API (words shown, never stored)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import librosa
import pytest

from bots.core.service import VoiceMoodService
from bots.i18n import t
from inference.transcript import Transcriber, character_error_rate
from tests import audio_factory
from tests.fakes.telegram import Call, FakeTelegram, group_chat, make_user, private_chat
from tests.service_factory import running_service
from tests.stats_model import StatsModel
from tests.test_telegram_bot import _answer_to, _is_reply_to, _start

ALICE = make_user(1001, "Alice", username="alice")
BORA = make_user(1003, "Bora", username="bora")
DM = private_chat(ALICE)
GROUP = group_chat(-1001234567890, "Mood club")
KIDS = "Kids are talking by the door"
# The first transcript loads the model on a busy 2-core machine; answers may take seconds.
SLOW_S = 60.0


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber()


@pytest.fixture
def kids_clip(shared_data) -> Path:
    """A held-out actor saying RAVDESS's first sentence (neutral)."""
    return shared_data / "ravdess" / "Actor_17" / "03-01-01-01-01-01-17.flac"


def test_character_error_rate_ignores_case_spaces_and_punctuation():
    assert character_error_rate(KIDS, " kids are talking by the door!") == 0.0
    assert character_error_rate("오늘 날씨가 좋네요", "오늘날씨가 좋네요.") == 0.0
    assert character_error_rate("abcd", "abxd") == 0.25
    assert character_error_rate("abcd", "") == 1.0


def test_packaged_whisper_base_writes_down_a_held_out_ravdess_clip_in_english(
    transcriber, kids_clip
):
    samples, _ = librosa.load(kids_clip, sr=16_000)

    heard = transcriber.transcribe_now(samples)

    assert heard.language == "en"
    assert character_error_rate(KIDS, heard.text) < 0.25, heard.text


def test_transcriber_loads_its_model_only_when_first_asked():
    assert not Transcriber().loaded


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def service(tmp_path, transcriber) -> AsyncIterator[VoiceMoodService]:
    async with running_service(StatsModel(), tmp_path) as built:
        built.transcripts.transcriber = transcriber
        yield built


@pytest.fixture
def kids_ogg(kids_clip, ffmpeg, tmp_path) -> bytes:
    samples, _ = librosa.load(kids_clip, sr=16_000)
    return audio_factory.encode(ffmpeg, samples, tmp_path / "kids.ogg").read_bytes()


async def test_transcript_on_in_a_private_chat_shows_the_words_under_the_tone_and_keeps_none(
    service, fake, kids_ogg, tmp_path
):
    handle = await _start(service, fake)
    try:
        before = await _answer_to(fake, fake.send_voice(DM, ALICE, kids_ogg, duration=4))
        on = await _answer_to(fake, fake.send_text(DM, ALICE, "/transcript on"))
        sent = fake.send_voice(DM, ALICE, kids_ogg, duration=4)
        answer = await fake.wait_for(lambda c: _replies(c, sent), timeout=SLOW_S)
        status = await _answer_to(fake, fake.send_text(DM, ALICE, "/transcript"))
        await _answer_to(fake, fake.send_text(DM, ALICE, "/transcript off"))
        after = await _answer_to(fake, fake.send_voice(DM, ALICE, kids_ogg, duration=4))
    finally:
        await handle.stop()

    assert on.params["text"] == t("en", "transcript.on")
    assert status.params["text"] == t("en", "transcript.status_on")
    tone, _, words = answer.params["text"].partition("\n\n📝 ")
    assert tone == before.params["text"]  # the tone line first, as without the words
    assert character_error_rate(KIDS, words) < 0.25, words
    assert "📝" not in before.params["text"] and "📝" not in after.params["text"]
    # Shown, never stored: no kept answer, no other column holds the words (nothing donated).
    assert "talking" not in _database_text(tmp_path).lower()
    assert not list((tmp_path / "data").rglob("*.ogg"))


async def test_in_a_group_words_are_shown_only_once_its_admins_allow_them(service, fake, kids_ogg):
    fake.add_member(GROUP, ALICE, "member")
    fake.add_member(GROUP, BORA, "administrator")
    handle = await _start(service, fake)
    try:
        await _answer_to(fake, fake.send_text(DM, ALICE, "/transcript on"))
        await _answer_to(fake, fake.send_text(GROUP, ALICE, "/optin"))
        refused = await _answer_to(fake, fake.send_text(GROUP, ALICE, "/transcript on"))
        before = await _answer_to(fake, fake.send_voice(GROUP, ALICE, kids_ogg, duration=4))
        allowed = await _answer_to(fake, fake.send_text(GROUP, BORA, "/transcript on"))
        sent = fake.send_voice(GROUP, ALICE, kids_ogg, duration=4)
        answer = await fake.wait_for(lambda c: _replies(c, sent), timeout=SLOW_S)
    finally:
        await handle.stop()

    assert refused.params["text"] == t("en", "admins_only")
    assert allowed.params["text"] == t("en", "transcript.chat_on")
    assert "📝" not in before.params["text"]
    assert "📝" in answer.params["text"] and "door" in answer.params["text"].lower()


def _replies(call: Call, update: dict[str, Any]) -> bool:
    message = update["message"]
    return call.method == "sendMessage" and _is_reply_to(call, message)


def _database_text(folder: Path) -> str:
    """Every text value in every table of the database file."""
    found = []
    with sqlite3.connect(folder / "db.sqlite3") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f"SELECT * FROM {table}"):  # noqa: S608 (names from the file)
                found.extend(v for v in row if isinstance(v, str))
    return "\n".join(found)

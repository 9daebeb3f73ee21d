"""Corrections teach it your voice, through the real Telegram client against the fake Bot API: a
person with /baseline on corrects their answers, and their next note is heard with what the
corrections taught; another person's answer is untouched; /baseline off takes it all away."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from logging import ERROR
from pathlib import Path

import pytest

from bots.i18n import t
from inference.cues import cues_of
from tests.audio_factory import speechlike
from tests.fakes.telegram import FakeTelegram, make_user, private_chat
from tests.service_factory import running_service
from tests.stats_model import StatsModel
from tests.test_telegram_bot import ALICE, DM, _answer_to, _buttons, _note_id, _start

BOB = make_user(1003, "Bob", username="bob")
BOB_DM = private_chat(BOB)
LABELS = StatsModel.labels


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def test_a_persons_corrections_adjust_their_next_answer_and_no_one_elses(
    fake, tmp_path, make_audio, caplog
):
    # Two ways Alice's voice sounds: quiet and low, loud and high.
    low = make_audio("low.ogg", 3.0, samples=speechlike(3.0, f0=110, seed=1) * 0.5).read_bytes()
    high = make_audio("high.ogg", 3.0, samples=speechlike(3.0, f0=160, seed=2)).read_bytes()
    # The voice cues' first call compiles their code (18 s on a busy 2-core machine): done here,
    # before the fake's 10 s waits start.
    await asyncio.to_thread(cues_of, speechlike(1.0), 16_000, None)
    async with running_service(StatsModel(), tmp_path) as service:
        handle = await _start(service, fake)
        try:
            bob_before = await _label_of(service, fake, BOB_DM, BOB, low)
            await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline on"))
            # What she says the two sound like: never what the model first hears in them.
            heard_low = await _label_of(service, fake, DM, ALICE, low)
            heard_high = await _label_of(service, fake, DM, ALICE, high)
            said_low = next(x for x in LABELS if x != heard_low)
            said = {
                "low": said_low,
                "high": next(x for x in LABELS if x not in (heard_high, said_low)),
            }
            for i in range(8):
                kind = "low" if i % 2 == 0 else "high"
                await _correct(fake, DM, ALICE, low if kind == "low" else high, said[kind])

            status = await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline"))
            assert t("en", "baseline.corrections", count=8) in status.params["text"]
            answer = await _answer_to(fake, fake.send_voice(DM, ALICE, low, duration=3))
            note = await service.store.get_note(_note_id(answer))
            own = _model_own_answer(tmp_path, note.id)
            bob_after = await _label_of(service, fake, BOB_DM, BOB, low)

            # Heard with what her corrections taught, not what the model alone says.
            assert note.label == said["low"] != own
            # Bob's identical note sounds as it did before Alice taught anything.
            assert bob_after == bob_before
            # Her eleven notes' numbers, kept under her baseline: two heard, eight corrected, one.
            assert _rows(tmp_path, "SELECT count(*) FROM correction_notes") == 11

            await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline off"))
            assert _rows(tmp_path, "SELECT count(*) FROM correction_notes") == 0
            await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline on"))
            again = await _answer_to(fake, fake.send_voice(DM, ALICE, low, duration=3))
            redone = await service.store.get_note(_note_id(again))
            assert redone.label != said["low"]  # nothing left to adjust with
        finally:
            await handle.stop()
    assert not [r for r in caplog.records if r.name == "bots.telegram_bot" and r.levelno >= ERROR]


async def _label_of(service, server: FakeTelegram, chat, user, audio: bytes) -> str:
    answer = await _answer_to(server, server.send_voice(chat, user, audio, duration=3))
    return (await service.store.get_note(_note_id(answer))).label


async def _correct(server: FakeTelegram, chat, user, audio: bytes, label: str) -> None:
    """Send a note, then pick `label` under its answer (the picker, then the label's button)."""
    answer = await _answer_to(server, server.send_voice(chat, user, audio, duration=3))
    note_id, message_id = _note_id(answer), answer.result["message_id"]
    since = len(server.sent)
    server.press_button(chat, user, message_id, f"pick:{note_id}")
    picker = await server.wait_for("editMessageText", since=since)
    assert f"lab:{note_id}:{label}" in [b["callback_data"] for b in _buttons(picker, row=None)]
    since = len(server.sent)
    server.press_button(chat, user, message_id, f"lab:{note_id}:{label}")
    await server.wait_for("editMessageText", since=since)


def _model_own_answer(folder: Path, note_id: int) -> str:
    """The model's own label for a note, before the person's adjustment (as kept for corrections)."""
    with sqlite3.connect(folder / "db.sqlite3") as db:
        (text,) = db.execute(
            "SELECT probabilities FROM correction_notes WHERE note_id = ?", (note_id,)
        ).fetchone()
    probs = json.loads(text)
    return max(probs, key=probs.get)


def _rows(folder: Path, sql: str, *params: object) -> int:
    with sqlite3.connect(folder / "db.sqlite3") as db:
        return int(db.execute(sql, params).fetchone()[0])

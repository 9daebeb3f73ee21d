"""Practice mode's core with real parts: a SQLite file, a real model, real Opus notes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.core.buttons import ButtonAction
from bots.core.my_data import export_document
from bots.core.practice import PRACTICE_TONES, NoPracticeRound
from bots.core.practice_hints import PROFILES, hint_for
from bots.core.service import VoiceMoodService
from bots.core.values import User, VoiceNote, Where
from bots.i18n import t
from inference.cues import Cue, Cues
from inference.models.hf import HFAudioClassifier
from tests.service_factory import running_service

ALICE = User("telegram", "101", "Alice", "en")
BORA = User("telegram", "202", "Bora", "ko-KR")
DM_ALICE = Where("telegram", "101", is_group=False)
DM_BORA = Where("telegram", "202", is_group=False)
GROUP = Where("telegram", "-500", is_group=True)


@pytest.fixture
async def service(tiny_hubert_dir, tmp_path):
    async with running_service(HFAudioClassifier.load(str(tiny_hubert_dir)), tmp_path) as built:
        yield built


@pytest.fixture
def ogg(make_audio) -> bytes:
    return make_audio("note.ogg", 2.0).read_bytes()


def _note(data: bytes, message_id: str = "1") -> VoiceNote:
    async def fetch() -> bytes:
        return data

    return VoiceNote(message_id, fetch, size=len(data))


def _cues(**moves: float) -> Cues:
    """Cues whose values sit `moves` away from a typical low voice (the reference)."""
    usual = {"pitch_hz": 115.0, "pitch_range_st": 7.7, "loudness_db": -44.0, "speech_rate": 4.3}
    value = {
        "pitch_hz": usual["pitch_hz"] * 2 ** (moves.get("pitch_hz", 0.0) / 12),
        "pitch_range_st": usual["pitch_range_st"] + moves.get("pitch_range_st", 0.0),
        "loudness_db": usual["loudness_db"] + moves.get("loudness_db", 0.0),
        "speech_rate": usual["speech_rate"] * (1 + moves.get("speech_rate", 0.0)),
    }
    cues = {name: Cue(value[name], usual[name]) for name in usual}
    return Cues(**cues, pause_share=Cue(0.0, 0.0), against="typical")


def test_the_hint_names_the_cue_furthest_from_the_target_tone_in_noticeable_steps():
    # A neutral-sounding attempt at angry: loudness is furthest (15 dB = 5 steps of 3 dB).
    hint = hint_for(_cues(), "angry")
    assert hint is not None and (hint.cue, hint.direction) == ("loudness_db", "higher")
    # Already loud enough: the next biggest gap, the pitch (6.2 semitones), is named.
    hint = hint_for(_cues(loudness_db=15.0), "angry")
    assert hint is not None and (hint.cue, hint.direction) == ("pitch_hz", "higher")
    # Far too loud and high for calm: quieter.
    hint = hint_for(_cues(loudness_db=12.0, pitch_hz=2.0), "calm")
    assert hint is not None and (hint.cue, hint.direction) == ("loudness_db", "lower")
    # On the profile already: no hint; nothing measured: no hint.
    assert hint_for(_cues(**PROFILES["surprised"]), "surprised") is None
    assert hint_for(None, "angry") is None


def test_every_hint_has_a_sentence_in_both_languages():
    for lang in ("en", "ko"):
        for cue in ("pitch_hz", "pitch_range_st", "loudness_db", "speech_rate"):
            for direction in ("higher", "lower"):
                text = t(lang, f"practice.hint.{cue}.{direction}", tone="X")
                assert "X" in text and "{" not in text


async def test_a_round_names_a_tone_the_model_can_hear_and_a_sentence_in_the_persons_language(
    service: VoiceMoodService,
):
    reply = await service.on_command(BORA, DM_BORA, "practice", [])
    person = await service.store.get_person("telegram", BORA.id)
    assert person is not None
    current = await service.practice.current(person)
    assert current is not None and current.tone in ("neutral", "happy", "sad", "angry")
    assert current.sentence("ko") in reply.text and "연습 1" in reply.text
    assert [b.data for b in reply.buttons[0]] == ["practice:next", "practice:stop"]
    # The 4-label model offers only the four tones it can hear.
    assert service.practice.tones == ("neutral", "happy", "sad", "angry")


async def test_an_attempt_is_heard_scored_and_never_stored_as_a_note(
    service: VoiceMoodService, ogg: bytes, tmp_path: Path
):
    await service.on_command(ALICE, DM_ALICE, "practice", ["sad"])
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    assert reply is not None and reply.note_id is None
    assert "I heard" in reply.text or "not sure" in reply.text
    assert "Your sad score so far:" in reply.text
    person = await service.store.get_person("telegram", ALICE.id)
    assert person is not None
    assert await service.store.person_notes(person) == []
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*"))
    (score,) = await service.store.practice.scores(person)
    assert (score.tone, score.attempts) == ("sad", 1)


async def test_an_attempt_heard_as_the_target_counts_as_a_hit(
    service: VoiceMoodService, ogg: bytes
):
    person = await service.chats.person(ALICE)
    await service.practice.start(person, "neutral")
    first = await service.practice.hear(person, ogg)
    # The same recording aimed at the tone it was heard as: a hit, counted in the score.
    await service.practice.start(person, first.heard)
    again = await service.practice.hear(person, ogg)
    assert again.heard == first.heard and again.hit
    assert again.score is not None and again.score.hits >= 1
    summary = await service.practice.stop(person)
    assert summary is not None and summary.rounds == 2
    assert sum(x.hits for x in summary.session) >= 1
    assert sum(x.attempts for x in summary.session) == 2
    assert await service.practice.current(person) is None
    with pytest.raises(NoPracticeRound):
        await service.practice.hear(person, ogg)


async def test_stop_ends_the_session_with_a_summary_and_later_notes_are_analysed_as_usual(
    service: VoiceMoodService, ogg: bytes
):
    await service.on_command(BORA, DM_BORA, "practice", ["angry"])
    await service.on_voice(BORA, DM_BORA, _note(ogg, "1"))
    summary = await service.on_command(BORA, DM_BORA, "practice", ["stop"])
    assert "연습을 마쳤어요. 들은 녹음: 1개" in summary.text
    assert "화남: 1번 중" in summary.text
    usual = await service.on_voice(BORA, DM_BORA, _note(ogg, "2"))
    assert usual is not None and usual.note_id is not None  # an ordinary, stored answer
    again = await service.on_command(BORA, DM_BORA, "practice", ["stop"])
    assert again.text == t("ko", "practice.none")


async def test_next_and_stop_buttons_send_a_new_round_or_the_summary_below(
    service: VoiceMoodService, ogg: bytes
):
    first = await service.on_command(ALICE, DM_ALICE, "practice", ["happy"])
    tapped = await service.on_button(ALICE, DM_ALICE, "practice:next", first.text)
    assert tapped.edit is not None and tapped.edit.buttons == ()  # the old round loses buttons
    assert tapped.follow is not None and "Practice 1" in tapped.follow.text
    person = await service.store.get_person("telegram", ALICE.id)
    assert person is not None
    current = await service.practice.current(person)
    assert current is not None and current.tone != "happy"  # Next picks another tone
    stop = await service.on_button(ALICE, DM_ALICE, ButtonAction("practice", step="stop"), "x")
    assert stop.follow is not None and "Practice finished. Recordings heard: 0." in stop.follow.text


async def test_practice_in_a_group_says_private_chats_only_and_stores_nothing(
    service: VoiceMoodService,
):
    reply = await service.on_command(ALICE, GROUP, "practice", [])
    assert reply.text == t("en", "private_only")
    person = await service.store.get_person("telegram", ALICE.id)
    assert person is not None and await service.practice.current(person) is None


async def test_an_idle_session_expires_and_the_note_gets_its_usual_answer(
    service: VoiceMoodService, ogg: bytes
):
    person = await service.chats.person(ALICE)
    long_ago = datetime.now(UTC) - timedelta(minutes=31)
    await service.store.practice.start_round(person, "angry", 0, at=long_ago)
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    assert reply is not None and reply.note_id is not None
    assert reply.text.startswith("⏱ Your practice session ended after 30 minutes")
    assert await service.store.practice.session(person) is None
    # The web page's path: an attempt at an expired round is refused, and nothing is counted.
    await service.store.practice.start_round(person, "angry", 0, at=long_ago)
    with pytest.raises(NoPracticeRound):
        await service.practice.hear(person, ogg)
    assert await service.store.practice.session(person) is None
    assert await service.store.practice.scores(person) == []


async def test_export_includes_the_practice_scores_and_forget_removes_every_practice_row(
    service: VoiceMoodService, ogg: bytes, tmp_path: Path
):
    await service.on_command(ALICE, DM_ALICE, "practice", ["angry"])
    await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    await service.on_command(BORA, DM_BORA, "practice", ["sad"])  # Bora's stays
    person = await service.store.get_person("telegram", ALICE.id)
    assert person is not None
    document = export_document(await service.store.person_data(person))
    (score,) = document["practice"]["scores"]
    assert (score["tone"], score["attempts"]) == ("angry", 1)
    assert document["practice"]["open_session"]["tone"] == "angry"
    assert "practice" in document["about"]

    await service.forget(ALICE, "en")
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"practice_sessions", "practice_session_tones", "practice_scores"} <= set(tables)
        for table in tables:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            if "person_id" in columns:
                left = db.execute(f'SELECT 1 FROM "{table}" WHERE person_id = ?', (person.id,))
                assert left.fetchall() == [], table
        assert db.execute("SELECT count(*) FROM practice_sessions").fetchone()[0] == 1  # Bora's


def test_both_languages_have_a_sentence_per_index_and_every_tone_has_a_profile():
    from bots.core.practice import SENTENCES

    for lang in ("en", "ko"):
        sentences = {t(lang, f"practice.sentence.{i}") for i in range(SENTENCES)}
        assert len(sentences) == SENTENCES
    assert set(PROFILES) == set(PRACTICE_TONES)

"""The bots' statistics of each chat language (VOICEMOOD_LANGUAGE_BASELINE): every analysed
note's vector merged by Welford's rule with the setting on, nothing kept with it off, and notes
heard against them once enough notes from enough people exist. Real parts: the Whisper head
model code (a tiny head over a four-number encoder stand-in), the shared worker, the Analyzer,
real ffmpeg-encoded notes and a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest

from bots.core.language_baseline import LanguageBaselineConfig
from bots.core.my_data import export_document
from bots.core.service import VoiceMoodService
from bots.core.values import User, VoiceNote, Where
from bots.i18n import t
from inference.analysis import Analyzer
from inference.baseline import SpeakerBaseline
from inference.encoder import PACKAGED_ENCODER, PACKAGED_SHA256, EncoderInfo
from inference.labels import CANONICAL_LABELS
from inference.models.whisper_head import HeadCard, Heads, LinearHead, WhisperHeadModel
from inference.worker import InferenceWorker
from storage.store import Store
from tests.stats_model import POPULATION_MEAN, POPULATION_STD, StatsModel
from voicemood.settings import Settings
from voicemood.wiring import build_service

LABELS = ("neutral", "happy", "sad", "angry")
ALICE = User("telegram", "101", "Alice", "en")
CHOI = User("telegram", "303", "Choi", "en-GB")
BORA = User("telegram", "202", "Bora", "ko-KR")


def _dm(user: User) -> Where:
    return Where(user.platform, user.id, is_group=False)


class _FourNumbers:
    """An encoder stand-in: a note's four waveform statistics (tests/stats_model.py)."""

    def __init__(self) -> None:
        self.info = EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, 4, "all")
        self.folder = Path(".")

    def embed(self, batch):  # noqa: ANN001, ANN201
        return StatsModel().embed(batch)


def _tiny_head() -> WhisperHeadModel:
    """The real head model code over a 4x4 linear head, trained (so to speak) on a population
    whose voices sit two spreads away from the test notes': a language it never heard."""
    weight = np.random.default_rng(5).normal(size=(4, 4)).astype(np.float32)
    shifted = POPULATION_MEAN + 2 * POPULATION_STD
    head = LinearHead(shifted, POPULATION_STD, weight, np.zeros(4, np.float32))
    card = HeadCard(LABELS, "tiny", EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, 4, "all"))
    return WhisperHeadModel(_FourNumbers(), Heads(head), card)  # type: ignore[arg-type]


@asynccontextmanager
async def _service(
    folder: Path, config: LanguageBaselineConfig | None
) -> AsyncIterator[VoiceMoodService]:
    store = await Store.open(folder / "db.sqlite3", folder / "data", labels=CANONICAL_LABELS)
    try:
        async with InferenceWorker(_tiny_head()) as worker:
            yield VoiceMoodService(Analyzer(worker), store, language_baseline=config)
    finally:
        await store.close()


def _note(data: bytes, message_id: str) -> VoiceNote:
    async def fetch() -> bytes:
        return data

    return VoiceNote(message_id, fetch, size=len(data))


@pytest.fixture
def notes(make_audio) -> list[bytes]:
    """Six different notes (their vectors differ, so a mean and a spread can be checked)."""
    return [make_audio(f"n{i}.ogg", 2.0 + 0.3 * i, seed=i).read_bytes() for i in range(6)]


def _rows(folder: Path, table: str) -> int:
    """How many rows `table` holds, read past the Store."""
    with sqlite3.connect(folder / "db.sqlite3") as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


async def _stats(service: VoiceMoodService, language: str) -> SpeakerBaseline | None:
    kept = await service.store.languages.statistics(language)
    return SpeakerBaseline.from_bytes(kept.count, kept.stats) if kept else None


async def _vector(service: VoiceMoodService, data: bytes) -> np.ndarray:
    heard = await service.analyzer.analyse(data)
    assert heard.embedding is not None
    return heard.embedding


async def test_each_analysed_note_changes_its_chat_languages_statistics_as_welfords_merge_says(
    tmp_path, notes
):
    on = LanguageBaselineConfig(on=True, min_notes=1000)
    async with _service(tmp_path, on) as service:
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[0], "1"))
        one = await _stats(service, "en")
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[1], "2"))
        two = await _stats(service, "en")
        await service.on_voice(BORA, _dm(BORA), _note(notes[2], "3"))
        ko = await service.store.languages.statistics("ko")
        en = await service.store.languages.statistics("en")
        vectors = [await _vector(service, notes[i]) for i in range(3)]

    expected = SpeakerBaseline.empty(4).updated(vectors[0])
    assert one is not None and one.count == 1
    assert np.allclose(one.mean, expected.mean, rtol=1e-6) and np.allclose(one.m2, 0.0)
    expected = expected.updated(vectors[1])
    assert two is not None and two.count == 2
    assert np.allclose(two.mean, expected.mean, rtol=1e-6)
    assert np.allclose(two.m2, expected.m2, rtol=1e-5)
    assert np.allclose(two.m2, np.square(vectors[0] - vectors[1]) / 2, rtol=1e-4)
    # Bora's platform says Korean: her note is Korean's, not English's.
    assert ko is not None and (ko.count, ko.people, ko.model) == (1, 1, "whisper-head:tiny")
    assert en is not None and (en.count, en.people) == (2, 1)


async def test_with_the_setting_off_nothing_is_kept_and_an_earlier_runs_statistics_go(
    tmp_path, notes
):
    async with _service(tmp_path, LanguageBaselineConfig(on=True)) as service:
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[0], "1"))
        assert (await service.store.languages.statistics("en")) is not None
    async with _service(tmp_path, LanguageBaselineConfig(on=False)) as service:
        reply = await service.on_voice(ALICE, _dm(ALICE), _note(notes[1], "2"))
        assert reply is not None and reply.note_id is not None  # the note itself is answered
        assert await service.store.languages.statistics("en") is None
    assert _rows(tmp_path, "language_stats") == _rows(tmp_path, "language_stats_people") == 0


async def test_the_setting_is_read_from_the_environments_settings(tmp_path):
    store = await Store.open(tmp_path / "db.sqlite3", tmp_path / "data")
    try:
        async with InferenceWorker(_tiny_head()) as worker:
            default = build_service(Analyzer(worker), store, Settings(_env_file=None))
            on = build_service(
                Analyzer(worker),
                store,
                Settings(
                    _env_file=None,
                    language_baseline=True,
                    language_baseline_min=7,
                    language_baseline_min_people=3,
                ),
            )
    finally:
        await store.close()
    assert default.languages.config == LanguageBaselineConfig(on=False, min_notes=20, min_people=5)
    assert on.languages.config == LanguageBaselineConfig(on=True, min_notes=7, min_people=3)


async def test_a_note_is_heard_against_its_languages_statistics_once_enough_people_sent_enough(
    tmp_path, notes
):
    config = LanguageBaselineConfig(on=True, min_notes=3, min_people=2)
    async with _service(tmp_path, config) as service:
        for i in range(3):
            await service.on_voice(ALICE, _dm(ALICE), _note(notes[i], str(i)))
        # Three notes, but one person's: not applied yet.
        early = await service.on_voice(ALICE, _dm(ALICE), _note(notes[5], "early"))
        before = await _stats(service, "en")
        await service.on_voice(CHOI, _dm(CHOI), _note(notes[3], "choi"))
        stats = await _stats(service, "en")
        late = await service.on_voice(ALICE, _dm(ALICE), _note(notes[5], "late"))
        assert early is not None and late is not None
        early_note = await service.store.notes.get(early.note_id)
        late_note = await service.store.notes.get(late.note_id)
        plain = await service.analyzer.analyse(notes[5])
        assert stats is not None
        heard = await service.analyzer.analyse(notes[5], language=stats)
        # Korean has no statistics: Bora's note is heard plainly.
        bora = await service.on_voice(BORA, _dm(BORA), _note(notes[5], "bora"))
        bora_note = await service.store.notes.get(bora.note_id)

    assert before is not None and before.count == 4
    assert stats.count == 5
    for label in LABELS:
        assert early_note.probabilities[label] == pytest.approx(plain.probabilities[label])
        assert late_note.probabilities[label] == pytest.approx(heard.probabilities[label])
        assert bora_note.probabilities[label] == pytest.approx(plain.probabilities[label])
    moved = max(abs(heard.probabilities[k] - plain.probabilities[k]) for k in LABELS)
    assert moved > 2e-3, moved  # 5 notes weigh 5 / (5 + 20) of the blend


async def test_privacy_says_what_is_kept_only_when_kept_and_forget_takes_the_mark_not_the_average(
    tmp_path, notes
):
    config = LanguageBaselineConfig(on=True, min_notes=20, min_people=5)
    async with _service(tmp_path, config) as service:
        said = await service.on_command(ALICE, _dm(ALICE), "privacy", [])
        said_ko = await service.on_command(BORA, _dm(BORA), "privacy", [])
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[0], "1"))
        await service.on_voice(CHOI, _dm(CHOI), _note(notes[1], "2"))
        person = await service.store.people.get_person(ALICE.platform, ALICE.id)
        assert person is not None
        exported = await service.store.privacy.export(person)
        await service.forget(ALICE, "en")
        after = await service.store.languages.statistics("en")
    async with _service(tmp_path, None) as off:
        said_off = await off.on_command(ALICE, _dm(ALICE), "privacy", [])

    assert said is not None and said_ko is not None and said_off is not None
    kept = t("en", "privacy.languages", notes=20, people=5)
    assert said.text == f"{t('en', 'privacy')}\n\n{kept}"
    assert "20 notes from 5 different people" in kept and "no audio" in kept
    assert t("ko", "privacy.languages", notes=20, people=5) in said_ko.text
    assert said_off.text == t("en", "privacy")
    assert exported.language_statistics == ["en"]
    assert export_document(exported)["language_statistics"] == ["en"]
    # Forgetting takes Alice's mark, but her note stays inside the average.
    assert after is not None and (after.count, after.people) == (2, 2)
    assert _rows(tmp_path, "language_stats_people") == 1

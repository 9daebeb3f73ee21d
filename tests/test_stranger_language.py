"""A note in a language the head never trained on is answered less surely (issue 20, item 5).

The head's card carries a stranger temperature, fitted on corpora held out whole: a note named
(by its speaker's language, or its language's statistics) as a language outside the head's
training languages gets its probabilities flattened by it; the order of the tones never changes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bots.core.language_baseline import LanguageBaselineConfig
from bots.core.service import VoiceMoodService
from bots.core.values import User, VoiceNote, Where
from inference.analysis import Analyzer
from inference.baseline import SpeakerBaseline
from inference.encoder import PACKAGED_ENCODER, PACKAGED_SHA256, EncoderInfo
from inference.labels import CANONICAL_LABELS
from inference.models.whisper_head import HeadCard, Heads, LinearHead, WhisperHeadModel
from inference.remote.protocol import Request
from inference.worker import InferenceWorker
from storage.store import Store
from tests.stats_model import POPULATION_MEAN, POPULATION_STD, StatsModel

LABELS = ("neutral", "happy", "sad", "angry")
ENCODER = EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, 4, "all")
STRANGER_T = 2.5


class _FourNumbers:
    """An encoder stand-in: a note's four waveform statistics (tests/stats_model.py)."""

    def __init__(self) -> None:
        self.info = ENCODER
        self.folder = Path(".")

    def embed(self, batch):  # noqa: ANN001, ANN201
        return StatsModel().embed(batch)


def _head(stranger: float = STRANGER_T) -> WhisperHeadModel:
    """The real head code over a 4x4 linear head that ships English and Korean statistics."""
    weight = np.random.default_rng(5).normal(size=(4, 4)).astype(np.float32) * 3
    head = LinearHead(POPULATION_MEAN, POPULATION_STD, weight, np.zeros(4, np.float32))
    card = HeadCard(LABELS, "tiny", ENCODER, stranger_temperature=stranger)
    shipped = SpeakerBaseline(40, POPULATION_MEAN, np.square(POPULATION_STD) * 39)
    heads = Heads(head, languages={"en": shipped, "ko": shipped})
    return WhisperHeadModel(_FourNumbers(), heads, card)  # type: ignore[arg-type]


def _vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (POPULATION_MEAN + rng.normal(size=(12, 4)) * POPULATION_STD).astype(np.float32)


def _flattened(p: np.ndarray, t: float) -> np.ndarray:
    q = np.power(p.astype(np.float64), 1.0 / t)
    return q / q.sum(axis=1, keepdims=True)


def test_a_language_the_head_never_trained_on_is_answered_less_surely_in_the_same_order():
    model, x = _head(), _vectors()
    plain = model.classify(x)
    urdu = model.classify(x, language="ur")
    assert np.allclose(urdu, _flattened(plain, STRANGER_T), atol=1e-5)
    assert (urdu.argmax(1) == plain.argmax(1)).all()
    assert (urdu.max(1) < plain.max(1) - 1e-3).all()


def test_a_language_it_trained_on_and_a_head_without_a_stranger_temperature_are_unchanged():
    x = _vectors()
    assert np.allclose(_head().classify(x, language="en"), _head(1.0).classify(x, language="en"))
    assert np.allclose(_head(1.0).classify(x, language="ur"), _head(1.0).classify(x))


def test_statistics_tagged_with_a_stranger_language_are_flattened_and_untagged_ones_are_not():
    model, x = _head(), _vectors()
    stats = SpeakerBaseline(30, x.mean(0), x.var(0) * 29)
    untagged = model.classify(x, language=stats)
    tagged = model.classify(x, language=replace(stats, language="ur"))
    assert np.allclose(tagged, _flattened(untagged, STRANGER_T), atol=1e-5)
    assert np.allclose(model.classify(x, language=replace(stats, language="en")), untagged)


def test_the_card_keeps_its_stranger_temperature_and_an_older_card_has_none():
    card = HeadCard(LABELS, "tiny", ENCODER, stranger_temperature=STRANGER_T)
    data = json.loads(json.dumps(card.to_json()))
    assert HeadCard.from_json(data).stranger_temperature == STRANGER_T
    del data["stranger_temperature"]
    assert HeadCard.from_json(data).stranger_temperature == 1.0
    assert "stranger_temperature" not in HeadCard(LABELS, "old", ENCODER).to_json()


def test_a_remote_worker_hears_whose_statistics_they_are():
    stats = SpeakerBaseline(3, np.ones(4, np.float32), np.ones(4, np.float32), language="ur")
    wave = np.zeros(1600, np.float32)
    for language in (stats, "ur"):
        request = Request("1", "hear", "r", 0.0, [wave], language=language)
        fields = {
            k.encode(): v.encode() if isinstance(v, str) else v for k, v in request.fields().items()
        }
        heard = Request.parse(fields, request.audio()).language
        assert heard == "ur" if isinstance(language, str) else heard.language == "ur"


URDU = User("telegram", "404", "Amna", "ur")
ENGLISH = User("telegram", "101", "Alice", "en")


def _note(data: bytes, message_id: str) -> VoiceNote:
    async def fetch() -> bytes:
        return data

    return VoiceNote(message_id, fetch, size=len(data))


@pytest.mark.parametrize("mode", ["off", "new"])
async def test_the_bot_answers_an_urdu_speaker_less_surely_than_the_same_note_from_an_english_one(
    tmp_path, make_audio, mode
):
    data = make_audio("note.ogg", 2.5, seed=3).read_bytes()
    store = await Store.open(tmp_path / "db.sqlite3", tmp_path / "data", labels=CANONICAL_LABELS)
    try:
        async with InferenceWorker(_head()) as worker:
            service = VoiceMoodService(
                Analyzer(worker), store, language_baseline=LanguageBaselineConfig(mode=mode)
            )
            urdu = await service.on_voice(
                URDU, Where("telegram", URDU.id, is_group=False), _note(data, "1")
            )
            english = await service.on_voice(
                ENGLISH, Where("telegram", ENGLISH.id, is_group=False), _note(data, "2")
            )
            plain = await service.analyzer.analyse(data)
            assert urdu is not None and english is not None
            urdu_note = await store.notes.get(urdu.note_id)
            english_note = await store.notes.get(english.note_id)
    finally:
        await store.close()
    as_urdu = _flattened(np.array([[plain.probabilities[k] for k in LABELS]]), STRANGER_T)[0]
    for i, label in enumerate(LABELS):
        assert english_note.probabilities[label] == pytest.approx(plain.probabilities[label])
        assert urdu_note.probabilities[label] == pytest.approx(as_urdu[i], abs=1e-5)
    assert max(urdu_note.probabilities.values()) < max(english_note.probabilities.values()) - 1e-3

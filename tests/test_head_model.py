"""The Whisper head's own rules: stages, length-aware confidence, language statistics, fitting."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from data_augment.datasets import CORPUS_LANGUAGES, Clip, read_dataset
from data_augment.embeddings import EmbeddedClips
from data_augment.whisper_head import _fit_linear, fit_heads, language_statistics
from inference.baseline import SpeakerBaseline
from inference.encoder import PACKAGED_ENCODER, PACKAGED_SHA256, EncoderInfo
from inference.errors import ModelLoadError
from inference.models.whisper_head import (
    HeadCard,
    LinearHead,
    WhisperHeadModel,
    read_head,
    save_head,
)

LABELS = ("neutral", "happy", "sad", "angry")


class _Vectors:
    """An encoder stand-in for vectors that are already embedded (classify only)."""

    def __init__(self, dim: int, stages: str = "all") -> None:
        self.info = EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, dim, stages)
        self.folder = Path(".")

    def embed(self, batch):  # noqa: ANN001, ANN201
        raise AssertionError("classify-only stand-in")


def _toy(seed: int = 0, n: int = 400, dim: int = 16, shift: float = 0.0) -> EmbeddedClips:
    """Four well-separated classes in `dim` dimensions, every row moved by `shift`."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(len(LABELS), dim))
    y = rng.integers(len(LABELS), size=n)
    x = centres[y] + rng.normal(size=(n, dim)) + shift
    clips = [Clip(Path(f"{i}.wav"), LABELS[k], f"toy:{i % 8}", "toy") for i, k in enumerate(y)]
    return EmbeddedClips(clips, x.astype(np.float32), np.zeros(n, np.int64))


def test_shared_corpora_read_as_polish_and_korean_with_canonical_labels(shared_data):
    nemo = read_dataset(f"nemo:{shared_data / 'nemo'}")
    korean = read_dataset(f"korean:{shared_data / 'korean'}")
    assert len(nemo) == 4481 and len({c.speaker for c in nemo}) == 9
    assert {c.label for c in nemo} == {"neutral", "happy", "sad", "angry", "fearful", "surprised"}
    assert len(korean) == 100 and {c.speaker for c in korean} == {
        f"korean:{s}" for s in ("ema", "emb", "emf", "emg", "emh")
    }
    assert {c.label for c in korean} == set(LABELS)
    assert all(c.path.is_file() for c in korean)
    assert CORPUS_LANGUAGES["nemo"] == "pl" and CORPUS_LANGUAGES["korean"] == "ko"


LAST_ROUND = Path(__file__).parent / "fixtures" / "head_last"


def test_the_last_rounds_head_still_loads_reads_the_last_stage_and_answers_as_before(
    shared_data, tmp_path_factory
):
    import json

    from data_augment.waves import load_waveform
    from inference.models import load_model

    card, heads = read_head(LAST_ROUND)
    assert card.encoder.stages == "last" and card.encoder.dim == 1024
    assert card.length_temperatures == () and dict(heads.languages) == {}
    model = load_model(str(LAST_ROUND), cache_dir=tmp_path_factory.mktemp("cache"))
    assert isinstance(model, WhisperHeadModel) and model.encoder.info.stages == "last"
    expected = json.loads((LAST_ROUND / "expected.json").read_text())["probabilities"]
    for name, probabilities in expected.items():
        got = model.predict([load_waveform(shared_data / name)])[0]
        assert np.allclose(got, probabilities, atol=2e-3), name


def test_a_head_refuses_an_encoder_with_other_stages_in_one_sentence():
    card, heads = read_head(LAST_ROUND)
    with pytest.raises(ModelLoadError, match="trained on the encoder whisper-base .* last stages"):
        WhisperHeadModel(_Vectors(1024, "all"), heads, card)  # type: ignore[arg-type]


def test_card_stages_length_temperatures_and_languages_survive_a_save(tmp_path):
    fit = fit_heads(_toy(), LABELS, c=1.0, calibrate_folds=0)
    stats = SpeakerBaseline(3, np.ones(16, np.float32), np.full(16, 2.0, np.float32))
    heads = replace(fit.heads, languages={"ko": stats})
    card = HeadCard(
        LABELS,
        "t",
        EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, 16, "all"),
        temperature=1.5,
        length_temperatures=((1.0, 3.0), (2.0, 2.0)),
    )
    back_card, back_heads = read_head(save_head(heads, card, tmp_path / "head"))
    assert back_card == card
    assert back_heads.languages["ko"].count == 3
    assert np.allclose(back_heads.languages["ko"].m2, 2.0)


def test_a_short_note_is_said_with_less_confidence_than_a_long_one():
    toy = _toy()
    fit = fit_heads(toy, LABELS, c=1.0, calibrate_folds=0)
    card = HeadCard(
        LABELS,
        "t",
        EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, 16, "all"),
        temperature=1.0,
        length_temperatures=((1.0, 4.0), (2.5, 2.0)),
    )
    model = WhisperHeadModel(_Vectors(16), fit.heads, card)  # type: ignore[arg-type]
    rows = toy.vectors[:50]
    seconds = np.array([0.8, 2.0, 6.0], np.float32)
    assert card.temperatures_for(seconds, 3).tolist() == [4.0, 2.0, 1.0]
    short = model.classify(rows, seconds=np.full(50, 0.8, np.float32)).max(axis=1)
    long = model.classify(rows, seconds=np.full(50, 6.0, np.float32)).max(axis=1)
    assert (short < long).all()
    same = model.classify(rows, seconds=np.full(50, 0.8, np.float32)).argmax(axis=1)
    assert (same == model.classify(rows).argmax(axis=1)).all()  # only the confidence moves


def test_a_language_shift_is_corrected_by_that_languages_own_unlabelled_notes():
    train = _toy(seed=1, n=800)
    fit = fit_heads(train, LABELS, c=1.0, calibrate_folds=0)
    card = HeadCard(LABELS, "t", EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, 16, "all"))
    model = WhisperHeadModel(_Vectors(16), fit.heads, card)  # type: ignore[arg-type]
    # The same speakers' classes, heard through a "language" that moves every vector.
    rng = np.random.default_rng(1)
    centres = rng.normal(scale=2.0, size=(len(LABELS), 16))
    y = rng.integers(len(LABELS), size=400)
    foreign = (centres[y] + rng.normal(size=(400, 16)) + 6.0).astype(np.float32)
    truth = np.array([LABELS.index(LABELS[k]) for k in y])
    plain = np.mean(model.classify(foreign).argmax(axis=1) == truth)
    stats = SpeakerBaseline.empty(16)
    for row in foreign[:200]:
        stats = stats.updated(row)
    heard = np.mean(model.classify(foreign, language=stats).argmax(axis=1) == truth)
    assert heard > max(0.9, plain + 0.2), (plain, heard)
    # A code the head ships statistics for works the same way; an unknown code changes nothing.
    shipped = WhisperHeadModel(
        _Vectors(16),  # type: ignore[arg-type]
        replace(fit.heads, languages={"xx": stats}),
        card,
    )
    assert np.allclose(
        shipped.classify(foreign, language="xx"), model.classify(foreign, language=stats)
    )
    assert np.allclose(shipped.classify(foreign, language="zz"), model.classify(foreign))


def test_language_statistics_are_kept_per_training_language_from_clean_clips():
    toy = _toy(n=40)
    clips = [replace(c, corpus="korean" if i % 2 else "ravdess") for i, c in enumerate(toy.clips)]
    kinds = np.where(np.arange(40) < 30, "clean", "crop")
    stats = language_statistics(EmbeddedClips(clips, toy.vectors, toy.copy, kinds))
    assert set(stats) == {"ko", "en"} and stats["ko"].count == 15 and stats["en"].count == 15
    assert np.allclose(stats["ko"].mean, toy.vectors[1:30:2].mean(axis=0), atol=1e-5)


def test_the_penalty_does_not_grow_when_a_fold_has_fewer_rows():
    """The out-of-fold temperature bias (issue 20): a fold's head must not shrink its logits."""
    toy = _toy(n=1600)
    y = np.array([LABELS.index(c.label) for c in toy.clips])
    mean, std = toy.vectors.mean(axis=0), toy.vectors.std(axis=0)

    def norm(rows: slice) -> float:
        head: LinearHead = _fit_linear(toy.vectors[rows], y[rows], mean, std, 4, 0.01, None, 0)
        return float(np.linalg.norm(head.weight))

    full, fifth = norm(slice(None)), norm(slice(0, 320))
    assert abs(fifth - full) / full < 0.15, (full, fifth)

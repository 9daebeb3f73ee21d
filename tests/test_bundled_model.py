"""The models shipped inside the package: the default Whisper head and the compact fallback."""

from __future__ import annotations

import numpy as np

from data_augment.datasets import read_ravdess
from data_augment.waves import load_waveform
from inference.models import BUNDLED_DIR, COMPACT_DIR, load_model
from inference.models.compact import WEIGHTS_FILE, CompactModel
from inference.models.whisper_head import HEAD_WEIGHTS, WhisperHeadModel
from tests import audio_factory


def test_no_model_setting_loads_the_whisper_head_over_the_packaged_encoder(tmp_path):
    model = load_model(None, cache_dir=tmp_path)
    assert isinstance(model, WhisperHeadModel)
    assert model.name.startswith("whisper-head:")
    assert model.card.encoder.name == "whisper-base"
    assert {"neutral", "happy", "sad", "angry", "bored"} <= set(model.labels)
    assert model.card.temperature > 0
    rows = model.predict([audio_factory.speechlike(2.0, seed=1)])
    assert rows.shape == (1, len(model.labels))
    assert np.isclose(rows.sum(), 1.0, atol=1e-5)


def test_compact_setting_loads_the_bundled_compact_fallback():
    model = load_model("compact")
    assert isinstance(model, CompactModel)
    assert model.name.startswith("compact:")
    assert model.predict([audio_factory.speechlike(2.0, seed=1)]).shape == (1, len(model.labels))


def test_bundled_weights_are_small_and_the_model_cards_state_data_and_licences():
    # Two heads over 7,168 numbers (all seven encoder stages) and four languages' statistics.
    assert (BUNDLED_DIR / HEAD_WEIGHTS).stat().st_size < 1_000_000
    assert (COMPACT_DIR / WEIGHTS_FILE).stat().st_size < 5_000_000
    for folder in (BUNDLED_DIR, COMPACT_DIR):
        card = (folder / "MODEL_CARD.md").read_text("utf-8")
        for needed in ("RAVDESS", "CC BY-NC-SA 4.0", "Burkhardt", "voicemood train", "Korean"):
            assert needed in card, (folder, needed)
    assert "MIT" in (BUNDLED_DIR / "MODEL_CARD.md").read_text("utf-8")  # Whisper's licence


def test_bundled_model_recognises_strongly_acted_speech_of_its_training_actors(shared_data):
    model = load_model(None)
    assert isinstance(model, WhisperHeadModel)
    trained_on = set(model.card.training["speakers"]["train"])
    clips = [
        clip
        for clip in read_ravdess(shared_data / "ravdess")
        if clip.speaker in trained_on
        and clip.intensity == 2.0
        and clip.label in ("angry", "sad", "happy", "calm")
    ][::8]
    assert len(clips) >= 20
    rows = model.predict([load_waveform(clip.path) for clip in clips])
    predicted = [model.labels[i] for i in rows.argmax(axis=1)]
    accuracy = np.mean([p == clip.label for p, clip in zip(predicted, clips, strict=True)])
    assert accuracy >= 0.75, list(zip(predicted, (c.label for c in clips), strict=True))

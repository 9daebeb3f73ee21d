"""The training versions of a clip the head learns from: short voiced crops, babble, their lengths."""

from __future__ import annotations

import numpy as np
import pytest

from data_augment.datasets import read_manifest
from data_augment.embeddings import (
    BABBLE_SNR_DB,
    CROP_S,
    EmbeddingCache,
    embed_clips,
    voiced_crop,
    voiced_span,
    with_babble_at,
)
from inference.encoder import WhisperEncoder
from tests import audio_factory

SR = 16_000


def _padded_speech(seconds: float = 3.0, silence: float = 1.0) -> np.ndarray:
    speech = audio_factory.speechlike(seconds, f0=180.0, seed=3).astype(np.float32)
    quiet = np.zeros(int(silence * SR), np.float32)
    return np.concatenate([quiet, speech, quiet])


def test_a_crop_is_a_short_stretch_of_the_voiced_part_and_repeats_under_its_seed():
    wave = _padded_speech()
    start, end = voiced_span(wave)
    assert abs(start / SR - 0.9) < 0.06 and abs(end / SR - 4.1) < 0.06  # 0.1 s pad around speech
    crops = [voiced_crop(wave, np.random.default_rng(seed)) for seed in range(20)]
    lengths = [len(c) / SR for c in crops]
    assert min(lengths) >= CROP_S[0] - 1e-3 and max(lengths) <= CROP_S[1] + 1e-3
    assert len(set(np.round(lengths, 2))) > 10  # lengths spread over the range
    for crop in crops:  # never the silence around the speech
        assert np.sqrt(np.mean(np.square(crop))) > 0.01
    again = voiced_crop(wave, np.random.default_rng(7))
    assert np.array_equal(again, crops[7])


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_babble_is_mixed_at_the_asked_signal_to_noise_ratio(tmp_path, snr_db):
    talkers = []
    for i in range(6):
        path = tmp_path / f"talker{i}.wav"
        audio_factory.write_wav(path, audio_factory.speechlike(2.0, f0=120.0 + 30 * i, seed=i))
        talkers.append(path)
    wave = audio_factory.speechlike(3.0, f0=200.0, seed=99).astype(np.float32) * 0.3
    mixed = with_babble_at(wave, talkers, np.random.default_rng(0), snr_db)
    crowd = mixed - wave
    measured = 10 * np.log10(np.mean(wave.astype(np.float64) ** 2) / np.mean(crowd**2))
    assert abs(measured - snr_db) < 0.5
    assert BABBLE_SNR_DB[0] <= snr_db <= BABBLE_SNR_DB[1]


def test_training_versions_are_embedded_once_with_their_kind_and_length(toy_manifest, tmp_path):
    encoder = WhisperEncoder(cache_dir=tmp_path / "cache", threads=2)
    clips = read_manifest(toy_manifest)[:4]
    cache = EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite3")
    try:
        first = embed_clips(clips, encoder, cache, crops=2, babble=1, progress=False)
        calls: list[int] = []
        real = encoder.embed
        encoder.embed = lambda batch: calls.append(len(batch)) or real(batch)  # type: ignore[method-assign]
        again = embed_clips(clips, encoder, cache, crops=2, babble=1, progress=False)
    finally:
        cache.close()
    assert calls == []  # every version came from the cache
    assert first.kind_of().tolist() == ["clean", "crop", "crop", "babble"] * 4
    assert np.array_equal(first.vectors, again.vectors)
    assert first.seconds is not None and again.seconds is not None
    assert np.allclose(first.seconds, again.seconds)
    clean = first.seconds[first.kind_of() == "clean"]
    assert (first.seconds[first.kind_of() == "crop"] <= clean.repeat(2) + 0.2).all()
    picked = first.take([1, 3])
    assert picked.kind_of().tolist() == ["crop", "babble"] and picked.clips[0] == clips[0]

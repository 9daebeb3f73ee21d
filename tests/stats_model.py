"""A small deterministic EmbeddingModel for tests: four waveform statistics and a fixed linear head.

The default compact model does not embed, so speaker baselines need this one in tests. It records
the count of every baseline `classify` is handed, so a test can see the baseline reach the head.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inference.baseline import SpeakerBaseline

# Typical values of the four statistics for speech-like test audio: the "population" a speaker's
# own statistics are blended with until they have many notes.
POPULATION_MEAN = np.array([0.1, 0.3, 0.05, 0.02], np.float32)
POPULATION_STD = np.array([0.05, 0.1, 0.03, 0.01], np.float32)
_HEAD = np.random.default_rng(7).standard_normal((4, 4)).astype(np.float32)


class StatsModel:
    """Embeds a waveform as (RMS, peak, zero-crossing rate, mean |step|); classifies linearly."""

    name = "test-stats:1"
    labels = ("neutral", "happy", "sad", "angry")
    embedding_dim = 4

    def __init__(self) -> None:
        # One entry per classify call: the baseline's count, or None when none was given.
        self.baseline_counts: list[int | None] = []

    def embed(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        return np.stack([_statistics(np.asarray(w, np.float32)) for w in batch])

    def classify(
        self, embeddings: np.ndarray, baseline: object | None = None, **_context: object
    ) -> np.ndarray:
        if isinstance(baseline, SpeakerBaseline):
            self.baseline_counts.append(baseline.count)
            mean, std = baseline.blended(POPULATION_MEAN, POPULATION_STD)
        else:
            self.baseline_counts.append(None)
            mean, std = POPULATION_MEAN, POPULATION_STD
        logits = ((embeddings - mean) / std) @ _HEAD
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        return self.classify(self.embed(batch))


def _statistics(wave: np.ndarray) -> np.ndarray:
    crossings = np.mean(np.abs(np.diff(np.signbit(wave).astype(np.int8)))) if wave.size > 1 else 0.0
    step = np.mean(np.abs(np.diff(wave))) if wave.size > 1 else 0.0
    rms = np.sqrt(np.mean(np.square(wave))) if wave.size else 0.0
    peak = np.max(np.abs(wave)) if wave.size else 0.0
    return np.array([rms, peak, crossings, step], np.float32)

"""One speaker's usual voice, as running statistics of their embeddings (never audio).

Emotion is heard as a departure from a person's usual voice. Normalising a note's embedding by
the statistics of that speaker's *other* notes (unlabelled) added 5-9 UAR points on speakers
never trained on (issue 12). The statistics are Welford's running count, mean and sum of squared
deviations, so one note updates them in O(dim) and nothing of the note itself is kept. Until a
speaker has many notes, their mean and spread are blended with the population's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Notes' worth of weight the population statistics keep in the blend: with 10 notes of one
# speaker, their own statistics weigh 10 / (10 + PRIOR_NOTES) of the result.
PRIOR_NOTES = 5.0
_FORMAT = np.dtype("<f4")


@dataclass(frozen=True)
class SpeakerBaseline:
    """Running statistics of one speaker's note embeddings: count, mean, sum of squares (M2)."""

    count: int
    mean: np.ndarray
    m2: np.ndarray
    # For a language's statistics: its code, so a head can tell a language it never trained on
    # (and answer it less surely) from one it did. Empty for a person's own.
    language: str = ""

    @classmethod
    def empty(cls, dim: int) -> SpeakerBaseline:
        return cls(0, np.zeros(dim, np.float32), np.zeros(dim, np.float32))

    @classmethod
    def leave_one_out(cls, vectors: np.ndarray) -> list[SpeakerBaseline]:
        """For each of one speaker's note embeddings, the baseline of all their *other* notes."""
        x = np.asarray(vectors, np.float64)
        total, squares = x.sum(axis=0), np.square(x).sum(axis=0)
        others = len(x) - 1
        if others < 1:
            return [cls.empty(x.shape[1]) for _ in x]
        baselines = []
        for row in x:
            mean = (total - row) / others
            m2 = np.maximum(squares - np.square(row) - others * np.square(mean), 0.0)
            baselines.append(cls(others, mean.astype(np.float32), m2.astype(np.float32)))
        return baselines

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    @property
    def variance(self) -> np.ndarray:
        return self.m2 / max(self.count - 1, 1)

    def updated(self, embedding: np.ndarray) -> SpeakerBaseline:
        """The statistics with one more note (Welford's update); `self` is unchanged."""
        x = np.asarray(embedding, np.float64)
        if x.shape != self.mean.shape:
            raise ValueError(f"embedding of shape {x.shape} for a baseline of width {self.dim}")
        count = self.count + 1
        delta = x - self.mean
        mean = self.mean + delta / count
        m2 = self.m2 + delta * (x - mean)
        return SpeakerBaseline(count, mean.astype(np.float32), m2.astype(np.float32))

    @classmethod
    def continued(cls, kept: tuple[int, bytes] | None, embedding: np.ndarray) -> SpeakerBaseline:
        """Statistics kept as (count, blob) with one more note; none kept, or kept of another
        width (statistics of other numbers), start afresh from this note."""
        width = int(np.asarray(embedding).size)
        start = cls.from_bytes(*kept) if kept is not None else None
        if start is None or start.dim != width:
            start = cls.empty(width)
        return start.updated(embedding)

    def blended(
        self, population_mean: np.ndarray, population_std: np.ndarray, prior: float = PRIOR_NOTES
    ) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) to normalise this speaker's notes: their own, shrunk toward the population's."""
        w = self.count / (self.count + prior)
        mean = w * self.mean + (1.0 - w) * population_mean
        own_var = self.variance if self.count > 1 else np.square(population_std)
        var = w * own_var + (1.0 - w) * np.square(population_std)
        return mean.astype(np.float32), np.sqrt(np.maximum(var, 1e-8)).astype(np.float32)

    def to_bytes(self) -> bytes:
        """mean then m2 as little-endian float32 (the count is stored beside it)."""
        return np.concatenate([self.mean, self.m2]).astype(_FORMAT).tobytes()

    @classmethod
    def from_bytes(cls, count: int, data: bytes) -> SpeakerBaseline:
        values = np.frombuffer(data, dtype=_FORMAT).astype(np.float32)
        if values.size % 2:
            raise ValueError("a baseline blob holds mean and m2 of equal width")
        half = values.size // 2
        return cls(int(count), values[:half].copy(), values[half:].copy())

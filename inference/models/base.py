"""The one interface every emotion model offers: a batch of waveforms in, probabilities out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

SAMPLE_RATE = 16_000
# A folder holding this file is one of the project's own compact models (data_augment trains them).
COMPACT_MARKER = "voicemood_model.json"
# A folder holding this file is an emotion head over a Whisper encoder.
HEAD_MARKER = "voicemood_head.json"


class EmotionModel(Protocol):
    """A loaded model, ready to classify.

    `labels` are canonical labels (inference.labels), one per output column, already merged when
    several native labels map onto one. `predict` takes 16 kHz mono float32 waveforms and returns
    an array of shape (len(batch), len(labels)) whose rows sum to one. It is synchronous and
    CPU/GPU bound: callers run it off the event loop (the worker does).
    """

    name: str
    labels: tuple[str, ...]

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray: ...


@runtime_checkable
class EmbeddingModel(EmotionModel, Protocol):
    """A model made of an encoder and a small head, whose two halves can run apart.

    `embed` (slow, in the worker's thread) turns waveforms into pooled vectors of width
    `embedding_dim`; `classify` (fast, anywhere) turns vectors into probabilities over `labels`,
    optionally normalised against one speaker's running statistics (inference.baseline) and the
    voices of the note's language; `seconds`, each row's length of speech, lets the confidence
    know how much it heard.
    `predict(batch)` equals `classify(embed(batch))`.
    """

    embedding_dim: int

    def embed(self, batch: Sequence[np.ndarray]) -> np.ndarray: ...

    def classify(
        self,
        embeddings: np.ndarray,
        baseline: object | None = None,
        *,
        seconds: np.ndarray | None = None,
        language: object | None = None,
    ) -> np.ndarray: ...

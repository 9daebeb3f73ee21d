"""Row-wise softmax: the one copy that the heads, their calibration and the benches share."""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, temperature: float | np.ndarray = 1.0) -> np.ndarray:
    """Probabilities of `logits / temperature` along each row (shifted by the row's max first)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)

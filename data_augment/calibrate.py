"""Temperature scaling (Guo et al. 2017): one number that makes a model's confidence honest.

Dividing the logits by a temperature fitted on held-out clips keeps every argmax (so accuracy is
unchanged) while the stated confidence comes to match how often the model is right. The bot says
"not sure" below a confidence threshold, so that threshold only means something after this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from data_augment.metrics import expected_calibration_error
from inference.probability import softmax

__all__ = ["Calibration", "fit_temperature", "softmax"]


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature and what it changed on the clips it was fitted on."""

    temperature: float
    n: int
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def fit_temperature(logits: np.ndarray, targets: Sequence[int] | np.ndarray) -> Calibration:
    """The temperature minimising the negative log-likelihood of `targets` (LBFGS on log T)."""
    z = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    y = torch.as_tensor(np.asarray(targets, dtype=np.int64))
    if z.ndim != 2 or len(z) != len(y) or len(y) == 0:
        raise ValueError(f"need (n, classes) logits and n targets, got {tuple(z.shape)}, {len(y)}")
    # Optimising log T keeps T positive without constraints.
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    optimiser.step(closure)
    temperature = float(np.clip(log_t.exp().item(), 0.05, 20.0))
    before, after = softmax(z.numpy(), 1.0), softmax(z.numpy(), temperature)
    return Calibration(
        temperature=temperature,
        n=len(y),
        ece_before=expected_calibration_error(before, y.numpy()),
        ece_after=expected_calibration_error(after, y.numpy()),
        nll_before=_nll(before, y.numpy()),
        nll_after=_nll(after, y.numpy()),
    )


def _nll(probabilities: np.ndarray, targets: np.ndarray) -> float:
    picked = probabilities[np.arange(len(targets)), targets]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, None))))

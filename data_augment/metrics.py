"""Classification metrics for emotion models: accuracy, UAR, macro-F1, per-class recall, ECE.

UAR (unweighted average recall, the mean of per-class recalls) is the field's headline figure
because emotion corpora are unbalanced; ECE says whether the stated confidence can be believed.
scikit-learn computes the classification figures; ECE is the usual equal-width-bin estimate
(Guo et al. 2017), which scikit-learn does not offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ECE_BINS = 15


@dataclass(frozen=True)
class Metrics:
    """How well predictions match the true labels of one evaluation set."""

    labels: tuple[str, ...]
    n: int
    accuracy: float
    uar: float
    macro_f1: float
    per_class_recall: dict[str, float]
    # Rows are true labels, columns predicted labels, both in `labels` order.
    confusion: list[list[int]]
    ece: float

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"] = list(self.labels)
        return data

    def summary(self) -> str:
        """One line for logs and the command line."""
        return (
            f"n={self.n} accuracy={self.accuracy:.3f} UAR={self.uar:.3f} "
            f"macro-F1={self.macro_f1:.3f} ECE={self.ece:.3f}"
        )


def compute_metrics(
    targets: Sequence[int] | np.ndarray, probabilities: np.ndarray, labels: Sequence[str]
) -> Metrics:
    """Metrics of `probabilities` (n, len(labels)) against target column indices.

    Classes absent from the targets are left out of UAR, macro-F1 and per-class recall, so a set
    without (say) "bored" is not penalised for a class it cannot contain.
    """
    from sklearn.metrics import confusion_matrix, f1_score, recall_score

    y_true = np.asarray(targets, dtype=np.int64)
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim != 2 or probs.shape != (len(y_true), len(labels)):
        raise ValueError(f"probabilities of shape {probs.shape} do not fit {len(y_true)} targets")
    y_pred = probs.argmax(axis=1)
    present = sorted(set(y_true.tolist()))
    recalls = recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    return Metrics(
        labels=tuple(labels),
        n=len(y_true),
        accuracy=float(np.mean(y_pred == y_true)) if len(y_true) else 0.0,
        uar=float(np.mean(recalls)) if present else 0.0,
        macro_f1=float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        per_class_recall={labels[c]: float(r) for c, r in zip(present, recalls, strict=True)},
        confusion=confusion_matrix(y_true, y_pred, labels=range(len(labels))).tolist(),
        ece=expected_calibration_error(probs, y_true),
    )


def expected_calibration_error(
    probabilities: np.ndarray, targets: Sequence[int] | np.ndarray, n_bins: int = ECE_BINS
) -> float:
    """Gap between confidence and accuracy, averaged over equal-width confidence bins (weighted by size)."""
    probs = np.asarray(probabilities, dtype=np.float64)
    y_true = np.asarray(targets, dtype=np.int64)
    if len(y_true) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    # Bin i holds confidences in (i/n, (i+1)/n]; a confidence of exactly 0 joins the first bin.
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    gap = 0.0
    for b in range(n_bins):
        members = bins == b
        if members.any():
            gap += members.sum() * abs(correct[members].mean() - confidence[members].mean())
    return float(gap / len(y_true))


def restrict(
    probabilities: np.ndarray, model_labels: Sequence[str], keep: Sequence[str]
) -> np.ndarray:
    """The columns `keep` (in that order) of probabilities over `model_labels`, renormalised per row.

    Used when a set can only hold some of the model's labels (RAVDESS has no "bored"), the usual
    closed-set evaluation: the model chooses among the labels the set can contain.
    """
    columns = [list(model_labels).index(label) for label in keep]
    picked = np.asarray(probabilities, dtype=np.float64)[:, columns]
    total = picked.sum(axis=1, keepdims=True)
    uniform = np.full_like(picked, 1.0 / max(len(keep), 1))
    return np.where(total > 0, picked / np.where(total > 0, total, 1.0), uniform)


def plot_confusion(metrics: Metrics, path: str | Path, title: str = "") -> Path:
    """Save the confusion matrix (row-normalised recall, with counts) as a PNG; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(metrics.confusion, dtype=np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = 1.2 + 0.6 * len(metrics.labels)
    fig, ax = plt.subplots(figsize=(size + 1.0, size), dpi=100)
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    ticks = range(len(metrics.labels))
    ax.set_xticks(ticks, metrics.labels, rotation=45, ha="right")
    ax.set_yticks(ticks, metrics.labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in ticks:
        for j in ticks:
            if counts[i, j]:
                colour = "white" if share[i, j] > 0.5 else "black"
                ax.text(
                    j, i, str(int(counts[i, j])), ha="center", va="center", color=colour, fontsize=8
                )
    ax.set_title(title or f"accuracy {metrics.accuracy:.1%}, UAR {metrics.uar:.1%}")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="recall")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path

"""Scoring a model on labelled clips: overall, per corpus and four-class, and the files it writes.

Evaluation is closed-set: a model chooses among the labels the evaluated set can contain (its
probabilities restricted to them and renormalised), so a model that also knows "bored" is scored
on RAVDESS over RAVDESS's eight emotions. Clips whose label the model cannot output at all are
counted in `skipped`, not scored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data_augment.datasets import Clip
from data_augment.metrics import Metrics, compute_metrics, plot_confusion, restrict
from inference.models.base import EmotionModel

# The four classes most corpora and SUPERB-ER share.
FOUR_CLASSES: tuple[str, ...] = ("neutral", "happy", "sad", "angry")


@dataclass(frozen=True)
class Evaluation:
    """Metrics over all scored clips, per corpus, and on the four shared classes."""

    overall: Metrics
    by_corpus: dict[str, Metrics]
    four_class: Metrics | None
    skipped: int

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_json(),
            "by_corpus": {name: m.to_json() for name, m in self.by_corpus.items()},
            "four_class": self.four_class.to_json() if self.four_class else None,
            "skipped": self.skipped,
        }

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [f"all: {self.overall.summary()}"]
        if len(self.by_corpus) > 1:
            lines += [f"{name}: {m.summary()}" for name, m in self.by_corpus.items()]
        if self.four_class is not None:
            lines.append(f"4-class ({', '.join(FOUR_CLASSES)}): {self.four_class.summary()}")
        if self.skipped:
            lines.append(f"skipped {self.skipped} clips whose label the model does not have")
        return "\n".join(lines)


def score(
    clips: Sequence[Clip],
    probabilities: np.ndarray,
    model_labels: Sequence[str],
    *,
    classes: Sequence[str] | None = None,
) -> Evaluation:
    """Score probabilities (one row per clip over `model_labels`); `classes` keeps only those labels."""
    allowed = set(model_labels) if classes is None else set(classes) & set(model_labels)
    keep = [i for i, clip in enumerate(clips) if clip.label in allowed]
    kept = [clips[i] for i in keep]
    probs = np.asarray(probabilities)[keep] if keep else np.zeros((0, len(model_labels)))
    if not kept:
        raise ValueError("none of the clips has a label the model can output")
    by_corpus = {
        corpus: _closed_set([c for c in kept if c.corpus == corpus], probs, kept, model_labels)
        for corpus in sorted({clip.corpus for clip in kept})
    }
    four = None
    if classes is None and set(FOUR_CLASSES) <= set(model_labels):
        subset = [c for c in kept if c.label in FOUR_CLASSES]
        if subset:
            four = _closed_set(subset, probs, kept, model_labels, FOUR_CLASSES)
    return Evaluation(
        overall=_closed_set(kept, probs, kept, model_labels),
        by_corpus=by_corpus,
        four_class=four,
        skipped=len(clips) - len(kept),
    )


def _closed_set(
    subset: Sequence[Clip],
    probs: np.ndarray,
    kept: Sequence[Clip],
    model_labels: Sequence[str],
    classes: Sequence[str] | None = None,
) -> Metrics:
    """Metrics of `subset` (clips of `kept`) over the labels it contains, or over `classes`."""
    rows = {id(clip): i for i, clip in enumerate(kept)}
    present = {clip.label for clip in subset}
    labels = [label for label in model_labels if label in (classes or present)]
    chosen = restrict(probs[[rows[id(clip)] for clip in subset]], model_labels, labels)
    return compute_metrics([labels.index(clip.label) for clip in subset], chosen, labels)


def evaluate_model(
    model: EmotionModel,
    clips: Sequence[Clip],
    *,
    classes: Sequence[str] | None = None,
    progress: bool = False,
) -> Evaluation:
    """Run `model` on every whole clip, one at a time as the bot does, and score it."""
    from tqdm import tqdm

    from data_augment.waves import load_waveform

    rows = [
        model.predict([load_waveform(clip.path)])[0]
        for clip in tqdm(clips, desc="evaluating", unit="clip", disable=not progress)
    ]
    return score(clips, np.stack(rows), model.labels, classes=classes)


def write_evaluation(evaluation: Evaluation, out: str | Path, prefix: str = "eval") -> list[Path]:
    """`<prefix>_metrics.json` and confusion PNGs (all, per corpus, four-class) into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics_path = out / f"{prefix}_metrics.json"
    metrics_path.write_text(json.dumps(evaluation.to_json(), indent=2) + "\n", "utf-8")
    written = [metrics_path, plot_confusion(evaluation.overall, out / f"{prefix}_confusion.png")]
    if len(evaluation.by_corpus) > 1:
        for corpus, metrics in evaluation.by_corpus.items():
            path = out / f"{prefix}_confusion_{corpus}.png"
            written.append(plot_confusion(metrics, path, title=f"{corpus}: UAR {metrics.uar:.1%}"))
    if evaluation.four_class is not None:
        four = evaluation.four_class
        path = out / f"{prefix}_confusion_4class.png"
        written.append(plot_confusion(four, path, title=f"4 classes: accuracy {four.accuracy:.1%}"))
    return written

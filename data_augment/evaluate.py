"""Evaluating models: scoring (data_augment.scoring) and leave-one-speaker-out cross-validation.

Leave-one-speaker-out trains a compact model per held-out speaker, so it lives here, above the
compact recipe; scoring itself sits below every recipe, which is why it has a module of its own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from data_augment import datasets
from data_augment.compact_recipe import prepare_features, run_fold
from data_augment.datasets import Clip
from data_augment.fit import TrainConfig, labels_of
from data_augment.scoring import FOUR_CLASSES, Evaluation, evaluate_model, score, write_evaluation
from data_augment.waves import load_waveforms

# Scoring, importable from here as before.
__all__ = [
    "FOUR_CLASSES",
    "Evaluation",
    "LosoResult",
    "evaluate_model",
    "leave_one_speaker_out",
    "score",
    "write_evaluation",
]


@dataclass(frozen=True)
class LosoResult:
    """Leave-one-speaker-out: every speaker scored by a model that never heard them."""

    evaluation: Evaluation
    per_speaker_uar: dict[str, float]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            **self.evaluation.to_json(),
            "per_speaker_uar": self.per_speaker_uar,
            "seconds": round(self.seconds, 1),
        }


def leave_one_speaker_out(
    clips: Sequence[Clip],
    config: TrainConfig,
    *,
    classes: Sequence[str] | None = None,
    progress: bool = True,
) -> LosoResult:
    """Train a compact model per held-out speaker (validation speakers drawn from the rest).

    Features and augmented copies are made once for all clips and shared by the folds, which
    keeps ten folds affordable on a CPU.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    waves = load_waveforms(clips, progress=progress)
    versions = prepare_features(waves, config, progress=progress)
    position = {id(clip): i for i, clip in enumerate(clips)}
    labels = labels_of(clips)
    probs = np.zeros((len(clips), len(labels)))
    per_speaker: dict[str, float] = {}
    folds = list(datasets.leave_one_speaker_out(clips))
    for speaker, rest, held_out in tqdm(folds, desc="speakers", unit="fold", disable=not progress):
        fractions = (1.0 - config.val_fraction, config.val_fraction, 0.0)
        train_part, val, _ = datasets.split_speakers(rest, fractions, seed=config.seed)
        fold_probs = run_fold(
            versions,
            [position[id(c)] for c in train_part],
            [position[id(c)] for c in val],
            [position[id(c)] for c in held_out],
            [labels.index(c.label) for c in clips],
            labels,
            config,
        )
        for clip, row in zip(held_out, fold_probs, strict=True):
            probs[position[id(clip)]] = row
        per_speaker[speaker] = score(held_out, fold_probs, labels, classes=classes).overall.uar
    evaluation = score(clips, probs, labels, classes=classes)
    return LosoResult(evaluation, per_speaker, time.perf_counter() - started)

"""What every training recipe shares: the run's config and result, and the one fit loop.

`fit` owns the epoch loop (shuffling, the optimiser and its one-cycle schedule, the step budget,
validation after every epoch, early stopping on validation UAR, epoch stats, keeping the best
weights); a recipe (`Recipe`) plugs in what differs between models through its hooks, as
SpeechBrain's `Brain.fit` does: how a batch becomes a loss, how validation is measured, which
weights are kept. A new model is a new recipe, not a new copy of the loop.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from data_augment.calibrate import Calibration
from data_augment.datasets import Clip, SpeakerSplit
from data_augment.scoring import Evaluation
from inference.features import FeatureConfig
from inference.labels import CANONICAL_LABELS
from inference.models.compact import NetConfig

log = logging.getLogger(__name__)

Architecture = Literal["compact", "hubert", "whisper-head"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; saved as train_config.json."""

    arch: Architecture = "compact"
    epochs: int = 60
    batch_size: int = 32
    # None: the architecture's default (compact 3e-3; fine-tuning 5e-5).
    learning_rate: float | None = None
    weight_decay: float = 1e-3
    seed: int = 0
    augment: bool = True
    # Voice-note augmented copies made per training clip, before training (the codec round trip
    # is far too slow to run on the fly on a CPU); each epoch picks one version of every clip.
    augment_copies: int = 2
    # Training crops (seconds): random windows of long clips, so the model sees varied starts.
    crop_s: float = 2.0
    spec_augment: bool = True
    # Random shifts of up to this many mel bands, up or down: a cheap vocal-tract-length change
    # that makes the model lean less on one speaker's formant positions.
    freq_shift: int = 3
    mixup: float = 0.0
    # Exponential moving average of the weights (0 disables): validation and the saved model
    # use the average, which swings far less from epoch to epoch than the raw weights.
    ema: float = 0.99
    # Nets trained with seeds seed, seed+1, ... on the same split, their logits averaged.
    members: int = 1
    patience: int = 15
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    # Explicit test speakers ("ravdess:17", ...) replace the random test part.
    test_speakers: tuple[str, ...] = ()
    # Stop after this many optimiser steps (tests run a handful).
    max_steps: int | None = None
    # The checkpoint folder a HuBERT-architecture run starts from.
    init: str | None = None
    # Fine-tuning keeps the pretrained convolutional encoder fixed; a from-scratch model cannot.
    freeze_feature_encoder: bool = True
    net: NetConfig = field(default_factory=NetConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    version: str = ""
    # --arch whisper-head: inverse L2 strength of the logistic-regression head, the encoder
    # (None: packaged Whisper-base) and where the encoder and the embedding cache live.
    head_c: float = 0.03
    encoder: str | None = None
    cache_dir: str = "~/.cache/voicemood"
    # --arch whisper-head: which encoder stages the head reads ("all": seven, "last": the first
    # heads' input), the short voiced crops and babble copies made of every training clip, and a
    # weight per corpus (a small corpus of the users' own language counts more).
    head_stages: str = "all"
    head_crops: int = 1
    head_babble: int = 1
    corpus_weights: tuple[tuple[str, float], ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["net"] = self.net.to_json()
        data["features"] = self.features.to_json()
        data["test_speakers"] = list(self.test_speakers)
        return data


@dataclass(frozen=True)
class EpochStats:
    member: int
    epoch: int
    loss: float
    val_uar: float
    val_accuracy: float
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    """What a run produced, as written to its metrics.json."""

    run_dir: Path
    arch: str
    labels: tuple[str, ...]
    speakers: dict[str, list[str]]
    clips: dict[str, int]
    history: list[EpochStats]
    # Per ensemble member (one entry for a single model).
    best_epochs: list[int]
    calibration: Calibration | None
    val: Evaluation | None
    test: Evaluation | None
    train_seconds: float
    n_parameters: int

    def to_json(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "labels": list(self.labels),
            "speakers": self.speakers,
            "clips": self.clips,
            "best_epochs": self.best_epochs,
            "train_seconds": round(self.train_seconds, 1),
            "n_parameters": self.n_parameters,
            "calibration": self.calibration.to_json() if self.calibration else None,
            "val": self.val.to_json() if self.val else None,
            "test": self.test.to_json() if self.test else None,
            "history": [asdict(h) for h in self.history],
        }


@dataclass(frozen=True)
class Validation:
    """One epoch's validation: what epoch stats record, and the key the best epoch is chosen by."""

    uar: float
    accuracy: float
    # Compared as a tuple, larger is better (validation UAR first, then any tie-breaker).
    key: tuple[float, ...]


class Recipe:
    """The hooks of one model's training; `fit` calls them in its fixed loop.

    A subclass sets up its model and data in `__init__` and overrides the hooks below.
    """

    # How many training clips an epoch goes through once each.
    n_train: int = 0
    # Whether any validation clip can be scored; without one the last epoch is kept.
    has_val: bool = False
    # The share of the one-cycle schedule spent warming the learning rate up.
    warmup: float = 0.2
    default_learning_rate: float = 3e-3

    def parameters(self) -> Iterable[torch.nn.Parameter]:
        """The weights the optimiser trains."""
        raise NotImplementedError

    def on_epoch_start(self) -> None:
        """Before an epoch's batches (e.g. put the model in training mode)."""

    def batch_loss(self, rows: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """The loss of one batch of training clips (their row numbers)."""
        raise NotImplementedError

    def on_step_end(self) -> None:
        """After each optimiser step (e.g. update a moving average of the weights)."""

    def validate(self) -> Validation:
        """Measure the current weights on the validation clips."""
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """A copy of the weights to keep if this epoch turns out the best."""
        raise NotImplementedError

    def restore(self, state: dict[str, Any]) -> None:
        """Load the best weights back for good, ready for inference."""
        raise NotImplementedError


@dataclass(frozen=True)
class Fitted:
    """What the fit loop hands back: every epoch's stats and the epoch whose weights were kept."""

    history: list[EpochStats]
    best_epoch: int


def fit(
    recipe: Recipe,
    config: TrainConfig,
    rng: np.random.Generator,
    *,
    member: int = 0,
    desc: str = "training",
    progress: bool = True,
) -> Fitted:
    """Train `recipe` for up to `config.epochs` epochs (or `config.max_steps` steps), keeping the best.

    Each epoch goes through the training clips once in a random order, in batches; after it the
    recipe is validated, and training stops early after `config.patience` epochs without a better
    validation key. The best epoch's weights are restored at the end.
    """
    from tqdm import tqdm

    n_clips = recipe.n_train
    lr = config.learning_rate or recipe.default_learning_rate
    optimiser = torch.optim.AdamW(recipe.parameters(), lr=lr, weight_decay=config.weight_decay)
    total_steps = config.epochs * -(-n_clips // config.batch_size)
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, total_steps=max(total_steps, 1), pct_start=recipe.warmup
    )
    history: list[EpochStats] = []
    best_key: tuple[float, ...] | None = None
    best_state = recipe.state()
    best_epoch = 0
    step = 0
    epochs = tqdm(range(config.epochs), desc=desc, unit="epoch", disable=not progress)
    for epoch in epochs:
        started = time.perf_counter()
        recipe.on_epoch_start()
        order = rng.permutation(n_clips)
        total_loss = 0.0
        for first in range(0, n_clips, config.batch_size):
            if step >= total_steps:
                break
            rows = order[first : first + config.batch_size]
            loss = recipe.batch_loss(rows, rng)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            recipe.on_step_end()
            step += 1
            total_loss += loss.item() * len(rows)
        val = recipe.validate()
        stats = EpochStats(
            member=member,
            epoch=epoch,
            loss=total_loss / n_clips,
            val_uar=val.uar,
            val_accuracy=val.accuracy,
            seconds=time.perf_counter() - started,
        )
        history.append(stats)
        epochs.set_postfix(loss=f"{stats.loss:.3f}", val_uar=f"{val.uar:.3f}")
        if not recipe.has_val or best_key is None or val.key > best_key:
            best_key, best_epoch, best_state = val.key, epoch, recipe.state()
        elif epoch - best_epoch >= config.patience:
            log.info("early stop at epoch %d (best %d)", epoch, best_epoch)
            break
        if step >= total_steps:
            break
    recipe.restore(best_state)
    return Fitted(history, best_epoch)


def seed_everything(seed: int) -> None:
    """Same seed, same run: Python, NumPy and torch generators, deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def class_weights(targets: Sequence[int], n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (mean 1 over present classes): rare emotions count as much as common ones."""
    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=n_classes).astype(float)
    weights = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1.0)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def labels_of(clips: Sequence[Clip]) -> tuple[str, ...]:
    """The canonical labels the clips use, in canonical order."""
    present = {clip.label for clip in clips}
    return tuple(label for label in CANONICAL_LABELS if label in present)


def speakers_of(split: SpeakerSplit) -> dict[str, list[str]]:
    """Each part's speakers, as a run's metrics and model card record them."""
    return {
        name: sorted({clip.speaker for clip in part})
        for name, part in zip(("train", "val", "test"), split, strict=True)
    }


def clip_counts(split: SpeakerSplit) -> dict[str, int]:
    return {"train": len(split.train), "val": len(split.val), "test": len(split.test)}

"""The compact CNN's recipe: log-mel features made once, nets fitted by the shared loop, calibrated.

Features of the clean clips and of their voice-note augmented copies are computed before training
(the codec round trip is far too slow to run per epoch on a CPU); each epoch takes every clip once
in one of its versions, randomly cropped, band-shifted and masked. Validation runs on whole clean
clips, one at a time as at inference, and keeps an exponential moving average of the weights.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from data_augment.calibrate import fit_temperature, softmax
from data_augment.datasets import SpeakerSplit
from data_augment.fit import (
    EpochStats,
    Recipe,
    TrainConfig,
    TrainResult,
    Validation,
    class_weights,
    clip_counts,
    fit,
    labels_of,
    seed_everything,
    speakers_of,
)
from data_augment.metrics import compute_metrics
from data_augment.scoring import score
from data_augment.waves import load_waveforms
from inference.features import LogMel
from inference.models.compact import (
    CompactEnsemble,
    CompactModel,
    CompactNet,
    ModelCard,
    save_model,
)


def train_compact(
    split: SpeakerSplit, config: TrainConfig, out: Path, *, progress: bool = True
) -> TrainResult:
    """Train the compact CNN on the split and save it, calibrated, into `out`."""
    started = time.perf_counter()
    labels = labels_of(split.train)
    index = {label: i for i, label in enumerate(labels)}
    clips = [*split.train, *split.val]
    versions = prepare_features(load_waveforms(clips, progress=progress), config, progress=progress)
    n_train = len(split.train)
    fitted = fit_ensemble(
        [[v[i] for i in range(n_train)] for v in versions],
        [index[clip.label] for clip in split.train],
        versions[0][n_train:],
        [index.get(clip.label, -1) for clip in split.val],
        labels,
        config,
        progress=progress,
    )
    model = CompactModel(fitted.net, fitted.card)
    calibration = None
    val_eval = None
    if split.val:
        val_logits = _logits(fitted.net, versions[0][n_train:])
        known = [i for i, clip in enumerate(split.val) if clip.label in index]
        if known:
            calibration = fit_temperature(
                val_logits[known], [index[split.val[i].label] for i in known]
            )
            model.card = replace(model.card, temperature=calibration.temperature)
        val_eval = score(split.val, softmax(val_logits, model.card.temperature), labels)
    test_eval = None
    if split.test:
        # Through the inference path (CompactModel.predict), exactly as the bot will run it.
        test_waves = load_waveforms(split.test, progress=progress)
        test_eval = score(split.test, model.predict(test_waves), labels)
    card = replace(model.card, training=_training_summary(split, config, labels))
    save_model(fitted.net, card, out)
    return TrainResult(
        run_dir=out,
        arch="compact",
        labels=labels,
        speakers=speakers_of(split),
        clips=clip_counts(split),
        history=fitted.history,
        best_epochs=fitted.best_epochs,
        calibration=calibration,
        val=val_eval,
        test=test_eval,
        train_seconds=time.perf_counter() - started,
        n_parameters=sum(p.numel() for p in fitted.net.parameters()),
    )


def run_fold(
    versions: Sequence[Sequence[torch.Tensor]],
    train_rows: Sequence[int],
    val_rows: Sequence[int],
    test_rows: Sequence[int],
    targets: Sequence[int],
    labels: Sequence[str],
    config: TrainConfig,
) -> np.ndarray:
    """One cross-validation fold over shared features: calibrated test probabilities."""
    fitted = fit_ensemble(
        [[v[i] for i in train_rows] for v in versions],
        [targets[i] for i in train_rows],
        [versions[0][i] for i in val_rows],
        [targets[i] for i in val_rows],
        labels,
        config,
        progress=False,
    )
    temperature = 1.0
    if val_rows:
        val_logits = _logits(fitted.net, [versions[0][i] for i in val_rows])
        temperature = fit_temperature(val_logits, [targets[i] for i in val_rows]).temperature
    return softmax(_logits(fitted.net, [versions[0][i] for i in test_rows]), temperature)


def prepare_features(
    waves: Sequence[np.ndarray], config: TrainConfig, *, progress: bool = True
) -> list[list[torch.Tensor]]:
    """Features of the clean clips (version 0), then of each voice-note augmented copy."""
    from tqdm import tqdm

    extractor = LogMel(config.features)
    versions = [
        [extractor(w) for w in tqdm(waves, desc="features", unit="clip", disable=not progress)]
    ]
    if config.augment and config.augment_copies > 0:
        from data_augment.augment import VoiceNoteAugmenter

        augmenter = VoiceNoteAugmenter(seed=config.seed)
        for copy_index in range(config.augment_copies):
            desc = f"augmenting {copy_index + 1}/{config.augment_copies}"
            versions.append(
                [
                    extractor(augmenter(w))
                    for w in tqdm(waves, desc=desc, unit="clip", disable=not progress)
                ]
            )
    return versions


@dataclass
class FittedCompact:
    net: CompactEnsemble
    card: ModelCard
    history: list[EpochStats]
    best_epochs: list[int]


def fit_ensemble(
    train_versions: Sequence[Sequence[torch.Tensor]],
    train_targets: Sequence[int],
    val_features: Sequence[torch.Tensor],
    val_targets: Sequence[int],
    labels: Sequence[str],
    config: TrainConfig,
    *,
    progress: bool = True,
) -> FittedCompact:
    """`config.members` nets, seeds config.seed, +1, ..., on the same data (see fit_compact)."""
    nets: list[CompactNet] = []
    history: list[EpochStats] = []
    best_epochs: list[int] = []
    for member in range(config.members):
        net, member_history, best_epoch = fit_compact(
            train_versions,
            train_targets,
            val_features,
            val_targets,
            labels,
            replace(config, seed=config.seed + member),
            member=member,
            progress=progress,
        )
        nets.append(net)
        history += member_history
        best_epochs.append(best_epoch)
    card = ModelCard(
        labels=tuple(labels),
        version=config.version or f"{date.today():%Y%m%d}",
        net=config.net,
        features=config.features,
        members=config.members,
    )
    return FittedCompact(CompactEnsemble(nets), card, history, best_epochs)


def fit_compact(
    train_versions: Sequence[Sequence[torch.Tensor]],
    train_targets: Sequence[int],
    val_features: Sequence[torch.Tensor],
    val_targets: Sequence[int],
    labels: Sequence[str],
    config: TrainConfig,
    *,
    member: int = 0,
    progress: bool = True,
) -> tuple[CompactNet, list[EpochStats], int]:
    """One net through the shared fit loop over cached features: (net, history, best epoch)."""
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    recipe = CompactRecipe(train_versions, train_targets, val_features, val_targets, labels, config)
    desc = "training" if config.members == 1 else f"training {member + 1}/{config.members}"
    fitted = fit(recipe, config, rng, member=member, desc=desc, progress=progress)
    return recipe.net, fitted.history, fitted.best_epoch


class CompactRecipe(Recipe):
    """The compact CNN's hooks: augmented crops in, class-weighted loss, EMA weights validated."""

    warmup = 0.2
    default_learning_rate = 3e-3

    def __init__(
        self,
        train_versions: Sequence[Sequence[torch.Tensor]],
        train_targets: Sequence[int],
        val_features: Sequence[torch.Tensor],
        val_targets: Sequence[int],
        labels: Sequence[str],
        config: TrainConfig,
    ) -> None:
        self.train_versions, self.val_features = train_versions, val_features
        self.val_targets, self.labels, self.config = val_targets, labels, config
        self.n_train = len(train_versions[0])
        self.has_val = any(t >= 0 for t in val_targets)
        self.targets = torch.tensor(list(train_targets), dtype=torch.long)
        self.net = CompactNet(config.features.n_mels, len(labels), config.net)
        self.weights = class_weights(train_targets, len(labels))
        self.crop = max(1, round(config.crop_s * 1000 / config.features.hop_ms))
        self.averaged = _averaged(self.net, config.ema)

    def parameters(self) -> Iterable[torch.nn.Parameter]:
        return self.net.parameters()

    def on_epoch_start(self) -> None:
        self.net.train()

    def batch_loss(self, rows: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        versions, config = self.train_versions, self.config
        picks = [versions[int(rng.integers(len(versions)))][i] for i in rows]
        x, lengths = _batch(
            picks, self.crop, rng, spec_augment=config.spec_augment, freq_shift=config.freq_shift
        )
        return _loss(self.net, x, lengths, self.targets[rows], self.weights, config.mixup, rng)

    def on_step_end(self) -> None:
        if self.averaged is not self.net:
            self.averaged.update_parameters(self.net)

    def validate(self) -> Validation:
        uar, accuracy, nll = _validate(
            _inner(self.averaged), self.val_features, self.val_targets, self.labels
        )
        # Equal UAR: the better calibrated epoch wins.
        return Validation(uar, accuracy, key=(uar, -nll))

    def state(self) -> dict[str, Any]:
        return copy.deepcopy(_inner(self.averaged).state_dict())

    def restore(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state)
        self.net.eval()


def _averaged(net: CompactNet, decay: float) -> Any:
    """An EMA copy of `net` (BatchNorm statistics averaged too), or `net` itself when decay is 0."""
    if decay <= 0:
        return net
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _inner(model: Any) -> CompactNet:
    """The CompactNet inside an AveragedModel (or the net itself)."""
    return model.module if hasattr(model, "module") else model


def _batch(
    features: Sequence[torch.Tensor],
    crop: int,
    rng: np.random.Generator,
    *,
    spec_augment: bool,
    freq_shift: int = 3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random crops of at most `crop` frames, band shifts and SpecAugment masks, zero-padded."""
    pieces = []
    for f in features:
        if f.shape[1] > crop:
            start = int(rng.integers(f.shape[1] - crop + 1))
            f = f[:, start : start + crop]
        if freq_shift > 0:
            f = _shift_bands(f, int(rng.integers(-freq_shift, freq_shift + 1)))
        if spec_augment:
            f = _spec_augment(f, rng)
        pieces.append(f)
    lengths = torch.tensor([p.shape[1] for p in pieces])
    x = torch.zeros(len(pieces), pieces[0].shape[0], int(lengths.max()))
    for i, piece in enumerate(pieces):
        x[i, :, : piece.shape[1]] = piece
    return x, lengths


def _shift_bands(features: torch.Tensor, shift: int) -> torch.Tensor:
    """Move the spectrum `shift` mel bands up (or down), repeating the edge band into the gap."""
    if shift == 0:
        return features
    if shift > 0:
        edge = features[:1].expand(shift, -1)
        return torch.cat([edge, features[:-shift]], dim=0)
    edge = features[-1:].expand(-shift, -1)
    return torch.cat([features[-shift:], edge], dim=0)


def _spec_augment(features: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Two frequency and two time masks (Park et al. 2019), set to the clip mean (zero)."""
    out = features.clone()
    n_mels, frames = out.shape
    for _ in range(2):
        width = int(rng.integers(0, max(1, n_mels // 8)))
        start = int(rng.integers(0, n_mels - width + 1))
        out[start : start + width] = 0.0
        width = int(rng.integers(0, max(1, min(30, frames // 5))))
        start = int(rng.integers(0, frames - width + 1))
        out[:, start : start + width] = 0.0
    return out


def _loss(
    net: CompactNet,
    x: torch.Tensor,
    lengths: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor,
    mixup: float,
    rng: np.random.Generator,
) -> torch.Tensor:
    """Class-weighted cross-entropy, on mixup pairs when `mixup` > 0."""
    if mixup <= 0:
        return F.cross_entropy(net(x, lengths), y, weight=weights, label_smoothing=0.05)
    lam = float(rng.beta(mixup, mixup))
    partner = torch.from_numpy(rng.permutation(len(y)))
    mixed = lam * x + (1 - lam) * x[partner]
    logits = net(mixed, torch.maximum(lengths, lengths[partner]))
    return lam * F.cross_entropy(logits, y, weight=weights) + (1 - lam) * F.cross_entropy(
        logits, y[partner], weight=weights
    )


@torch.inference_mode()
def _logits(net: CompactNet | CompactEnsemble, features: Sequence[torch.Tensor]) -> np.ndarray:
    """Logits of whole clips, each run alone as at inference."""
    net.eval()
    if not features:
        return np.zeros((0, net.n_classes), dtype=np.float32)
    return np.stack([net(f[None])[0].numpy() for f in features])


def _validate(
    net: CompactNet,
    features: Sequence[torch.Tensor],
    targets: Sequence[int],
    labels: Sequence[str],
) -> tuple[float, float, float]:
    """(UAR, accuracy, NLL) on the validation clips whose label the model has."""
    known = [i for i, t in enumerate(targets) if t >= 0]
    if not known:
        return 0.0, 0.0, 0.0
    logits = _logits(net, [features[i] for i in known])
    y = np.asarray([targets[i] for i in known])
    probs = softmax(logits)
    metrics = compute_metrics(y, probs, labels)
    nll = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))))
    return metrics.uar, metrics.accuracy, nll


def _training_summary(
    split: SpeakerSplit, config: TrainConfig, labels: Sequence[str]
) -> dict[str, Any]:
    """What the model card's JSON records about the data: corpora, speakers, clips, augmentation."""
    corpora = sorted({clip.corpus for clip in split.train})
    return {
        "corpora": corpora,
        "clips": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        "speakers": speakers_of(split),
        "labels": list(labels),
        "augment": config.augment,
        "augment_copies": config.augment_copies if config.augment else 0,
        "epochs": config.epochs,
        "members": config.members,
        "seed": config.seed,
    }

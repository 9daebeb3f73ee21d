"""Training emotion models on labelled clips, speaker-independently, into a self-describing run folder.

`train` splits the clips by speaker (train / validation / test), trains the chosen architecture
with a class-weighted loss and early stopping on validation UAR, fits a temperature on the
validation clips, scores the test speakers, and writes the run folder: the model (loadable by
`inference.models.load_model`), `train_config.json`, `labels.json`, `metrics.json` and confusion
matrices. The compact CNN trains here; the HuBERT-architecture path is data_augment.finetune.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from data_augment.calibrate import Calibration, fit_temperature, softmax
from data_augment.datasets import Clip, SpeakerSplit, speaker_split, split_speakers
from data_augment.evaluate import Evaluation, score, write_evaluation
from data_augment.metrics import compute_metrics
from data_augment.waves import load_waveforms
from inference.features import FeatureConfig, LogMel
from inference.labels import CANONICAL_LABELS
from inference.models.compact import (
    CompactEnsemble,
    CompactModel,
    CompactNet,
    ModelCard,
    NetConfig,
    save_model,
)

log = logging.getLogger(__name__)

# Corpora whose licence forbids training a model that ships (see ../shared/data/README.md).
EVALUATION_ONLY = frozenset({"urdu"})

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


def train(
    clips: Sequence[Clip], config: TrainConfig, out: str | Path, *, progress: bool = True
) -> TrainResult:
    """Train `config.arch` on `clips` split by speaker and write the run folder `out`."""
    if any(clip.corpus in EVALUATION_ONLY for clip in clips):
        raise ValueError(
            f"{', '.join(sorted(EVALUATION_ONLY))} is for evaluation only (its licence allows "
            "research use): score models on it with `voicemood eval`, never train on it"
        )
    split = split_for_training(clips, config)
    if not split.train:
        raise ValueError("no training clips after the speaker split")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    if config.arch == "hubert":
        from data_augment.finetune import train_hubert

        result = train_hubert(split, config, out, progress=progress)
    elif config.arch == "whisper-head":
        result = train_head(split, config, out, progress=progress)
    else:
        result = train_compact(split, config, out, progress=progress)
    write_run(result, config)
    return result


def split_for_training(clips: Sequence[Clip], config: TrainConfig) -> SpeakerSplit:
    """Train/validation/test with no speaker in two parts (explicit test speakers if given).

    Fractions are of speakers, drawn per corpus (data_augment.datasets.split_speakers).
    """
    if config.test_speakers:
        rest, test = speaker_split(clips, set(config.test_speakers))
        if not test:
            raise ValueError(f"none of the test speakers {list(config.test_speakers)} has clips")
        # The validation share is then taken of the remaining speakers.
        fractions = (1.0 - config.val_fraction, config.val_fraction, 0.0)
        train_part, val, _ = split_speakers(rest, fractions, seed=config.seed)
        return SpeakerSplit(train_part, val, test)
    train_share = 1.0 - config.val_fraction - config.test_fraction
    return split_speakers(
        clips, (train_share, config.val_fraction, config.test_fraction), seed=config.seed
    )


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


def train_head(
    split: SpeakerSplit, config: TrainConfig, out: Path, *, progress: bool = True
) -> TrainResult:
    """Fit the Whisper emotion head on cached embeddings (data_augment.whisper_head)."""
    from data_augment.whisper_head import train_whisper_head

    model, fit, evaluations, seconds = train_whisper_head(
        split,
        out=out,
        encoder_spec=config.encoder,
        cache_dir=Path(config.cache_dir),
        copies=config.augment_copies if config.augment else 0,
        c=config.head_c,
        seed=config.seed,
        version=config.version,
        progress=progress,
    )
    heads = [h for h in (fit.heads.population, fit.heads.speaker) if h is not None]
    return TrainResult(
        run_dir=out,
        arch="whisper-head",
        labels=model.labels,
        speakers=_speakers(split),
        clips={"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        history=[],
        best_epochs=[],
        calibration=fit.calibration,
        val=evaluations["val"],
        test=evaluations["test"],
        train_seconds=seconds,
        n_parameters=sum(h.weight.size + h.bias.size for h in heads),
    )


# --- The compact model ---------------------------------------------------------------------------


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
        speakers=_speakers(split),
        clips={"train": len(split.train), "val": len(split.val), "test": len(split.test)},
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
    """One net's training loop over cached features: (net, history, best epoch by val UAR).

    Each epoch takes every training clip once, in one of its versions (clean or augmented),
    randomly cropped and masked; validation runs on whole clean clips, one at a time.
    """
    from tqdm import tqdm

    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    n_clips = len(train_versions[0])
    targets = torch.tensor(list(train_targets), dtype=torch.long)
    net = CompactNet(config.features.n_mels, len(labels), config.net)
    lr = config.learning_rate or 3e-3
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=config.weight_decay)
    total_steps = config.epochs * -(-n_clips // config.batch_size)
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, total_steps=max(total_steps, 1), pct_start=0.2
    )
    weights = class_weights(train_targets, len(labels))
    crop = max(1, round(config.crop_s * 1000 / config.features.hop_ms))
    has_val = any(t >= 0 for t in val_targets)
    history: list[EpochStats] = []
    best: tuple[float, float] = (-1.0, float("inf"))
    averaged = _averaged(net, config.ema)
    best_state = copy.deepcopy(_inner(averaged).state_dict())
    best_epoch = 0
    step = 0
    desc = "training" if config.members == 1 else f"training {member + 1}/{config.members}"
    epochs = tqdm(range(config.epochs), desc=desc, unit="epoch", disable=not progress)
    for epoch in epochs:
        started = time.perf_counter()
        net.train()
        order = rng.permutation(n_clips)
        total_loss = 0.0
        for first in range(0, n_clips, config.batch_size):
            if step >= total_steps:
                break
            members = order[first : first + config.batch_size]
            picks = [train_versions[int(rng.integers(len(train_versions)))][i] for i in members]
            x, lengths = _batch(
                picks, crop, rng, spec_augment=config.spec_augment, freq_shift=config.freq_shift
            )
            loss = _loss(net, x, lengths, targets[members], weights, config.mixup, rng)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            if averaged is not net:
                averaged.update_parameters(net)
            step += 1
            total_loss += loss.item() * len(members)
        val_uar, val_accuracy, val_nll = _validate(
            _inner(averaged), val_features, val_targets, labels
        )
        stats = EpochStats(
            member=member,
            epoch=epoch,
            loss=total_loss / n_clips,
            val_uar=val_uar,
            val_accuracy=val_accuracy,
            seconds=time.perf_counter() - started,
        )
        history.append(stats)
        epochs.set_postfix(loss=f"{stats.loss:.3f}", val_uar=f"{val_uar:.3f}")
        # Without validation clips the last epoch is kept.
        if not has_val or (val_uar, -val_nll) > (best[0], -best[1]):
            best, best_epoch = (val_uar, val_nll), epoch
            best_state = copy.deepcopy(_inner(averaged).state_dict())
        elif epoch - best_epoch >= config.patience:
            log.info("early stop at epoch %d (best %d)", epoch, best_epoch)
            break
        if step >= total_steps:
            break
    net.load_state_dict(best_state)
    net.eval()
    return net, history, best_epoch


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


# --- The run folder ----------------------------------------------------------------------------


def write_run(result: TrainResult, config: TrainConfig) -> None:
    """train_config.json, labels.json, metrics.json and confusion PNGs beside the model."""
    out = result.run_dir
    _write_json(out / "train_config.json", config.to_json())
    _write_json(out / "labels.json", {str(i): label for i, label in enumerate(result.labels)})
    _write_json(out / "metrics.json", result.to_json())
    if result.val is not None:
        write_evaluation(result.val, out, prefix="val")
    if result.test is not None:
        write_evaluation(result.test, out, prefix="test")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _speakers(split: SpeakerSplit) -> dict[str, list[str]]:
    return {
        name: sorted({clip.speaker for clip in part})
        for name, part in zip(("train", "val", "test"), split, strict=True)
    }


def _training_summary(
    split: SpeakerSplit, config: TrainConfig, labels: Sequence[str]
) -> dict[str, Any]:
    """What the model card's JSON records about the data: corpora, speakers, clips, augmentation."""
    corpora = sorted({clip.corpus for clip in split.train})
    return {
        "corpora": corpora,
        "clips": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        "speakers": _speakers(split),
        "labels": list(labels),
        "augment": config.augment,
        "augment_copies": config.augment_copies if config.augment else 0,
        "epochs": config.epochs,
        "members": config.members,
        "seed": config.seed,
    }

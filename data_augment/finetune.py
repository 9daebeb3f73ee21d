"""The HuBERT-architecture path: fine-tune a transformers audio classifier from a checkpoint folder.

Any checkpoint `AutoModelForAudioClassification` loads (HuBERT, wav2vec2, WavLM) gets a new head
over the training labels and is fine-tuned with the same split, class-weighted loss, early
stopping and temperature scaling as the compact model. The run folder is a transformers folder
(`save_pretrained`) that `inference.models.hf.HFAudioClassifier` loads; the fitted temperature is
folded into the classifier layer, since that loader knows nothing of temperatures.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from data_augment.calibrate import fit_temperature, softmax
from data_augment.datasets import SpeakerSplit
from data_augment.evaluate import score
from data_augment.metrics import compute_metrics
from data_augment.train import (
    EpochStats,
    TrainConfig,
    TrainResult,
    class_weights,
    labels_of,
    seed_everything,
)
from data_augment.waves import load_waveforms
from inference.models.base import SAMPLE_RATE

DEFAULT_LEARNING_RATE = 5e-5


def train_hubert(
    split: SpeakerSplit, config: TrainConfig, out: Path, *, progress: bool = True
) -> TrainResult:
    """Fine-tune `config.init` on the split; save the calibrated model into `out`."""
    from tqdm import tqdm
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from inference.models.hf import HFAudioClassifier

    if not config.init:
        raise ValueError("the hubert architecture needs a checkpoint folder to start from (--init)")
    started = time.perf_counter()
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    labels = labels_of(split.train)
    index = {label: i for i, label in enumerate(labels)}
    extractor = AutoFeatureExtractor.from_pretrained(config.init, local_files_only=True)
    model = AutoModelForAudioClassification.from_pretrained(
        config.init,
        local_files_only=True,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id=index,
        # The checkpoint's own head (SUPERB's four labels, say) is replaced by one over ours.
        ignore_mismatched_sizes=True,
    )
    if config.freeze_feature_encoder and hasattr(model, "freeze_feature_encoder"):
        model.freeze_feature_encoder()
    train_waves = _with_augmented_copies(load_waveforms(split.train, progress=progress), config)
    copies = len(train_waves) // max(len(split.train), 1)
    val_waves = load_waveforms(split.val, progress=progress)
    train_targets = [index[clip.label] for clip in split.train]
    val_known = [i for i, clip in enumerate(split.val) if clip.label in index]
    val_targets = [index[split.val[i].label] for i in val_known]
    lr = config.learning_rate or DEFAULT_LEARNING_RATE
    optimiser = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=config.weight_decay
    )
    steps = config.epochs * -(-len(split.train) // config.batch_size)
    if config.max_steps is not None:
        steps = min(steps, config.max_steps)
    # Warm-up then decay: the usual fine-tuning schedule, and what a from-scratch transformer needs.
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, total_steps=max(steps, 1), pct_start=0.1
    )
    weights = class_weights(train_targets, len(labels))
    crop = max(1, round(config.crop_s * SAMPLE_RATE))
    history: list[EpochStats] = []
    best_uar, best_epoch, best_state = -1.0, 0, copy.deepcopy(model.state_dict())
    step = 0
    epochs = tqdm(range(config.epochs), desc="fine-tuning", unit="epoch", disable=not progress)
    for epoch in epochs:
        epoch_started = time.perf_counter()
        model.train()
        order = rng.permutation(len(split.train))
        total = 0.0
        for first in range(0, len(order), config.batch_size):
            if config.max_steps is not None and step >= config.max_steps:
                break
            members = order[first : first + config.batch_size]
            pieces = [
                _crop(train_waves[int(rng.integers(copies)) * len(split.train) + i], crop, rng)
                for i in members
            ]
            inputs = _inputs(extractor, pieces)
            y = torch.tensor([train_targets[i] for i in members])
            loss = F.cross_entropy(model(**inputs).logits, y, weight=weights)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            total += loss.item() * len(members)
        val_logits = _logits(model, extractor, [val_waves[i] for i in val_known])
        val_metrics = (
            compute_metrics(val_targets, softmax(val_logits), labels) if val_known else None
        )
        uar = val_metrics.uar if val_metrics else 0.0
        history.append(
            EpochStats(
                member=0,
                epoch=epoch,
                loss=total / len(split.train),
                val_uar=uar,
                val_accuracy=val_metrics.accuracy if val_metrics else 0.0,
                seconds=time.perf_counter() - epoch_started,
            )
        )
        epochs.set_postfix(loss=f"{history[-1].loss:.3f}", val_uar=f"{uar:.3f}")
        if not val_known or uar > best_uar:
            best_uar, best_epoch, best_state = uar, epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break
        if config.max_steps is not None and step >= config.max_steps:
            break
    model.load_state_dict(best_state)
    model.eval()
    calibration = None
    val_eval = None
    if val_known:
        val_logits = _logits(model, extractor, [val_waves[i] for i in val_known])
        calibration = fit_temperature(val_logits, val_targets)
        _fold_temperature(model, calibration.temperature)
        val_eval = score(
            [split.val[i] for i in val_known],
            softmax(val_logits, calibration.temperature),
            labels,
        )
    model.save_pretrained(out)
    extractor.save_pretrained(out)
    test_eval = None
    if split.test:
        # Scored through the loader the bot uses, so the saved folder is what is measured.
        loaded = HFAudioClassifier.load(str(out))
        test_waves = load_waveforms(split.test, progress=progress)
        rows = np.concatenate([loaded.predict([w]) for w in test_waves])
        test_eval = score(split.test, rows, loaded.labels)
    return TrainResult(
        run_dir=out,
        arch="hubert",
        labels=labels,
        speakers={
            name: sorted({clip.speaker for clip in part})
            for name, part in zip(("train", "val", "test"), split, strict=True)
        },
        clips={"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        history=history,
        best_epochs=[best_epoch],
        calibration=calibration,
        val=val_eval,
        test=test_eval,
        train_seconds=time.perf_counter() - started,
        n_parameters=sum(p.numel() for p in model.parameters()),
    )


def _with_augmented_copies(waves: list[np.ndarray], config: TrainConfig) -> list[np.ndarray]:
    """The clean waveforms followed by `augment_copies` voice-note versions of each."""
    if not config.augment or config.augment_copies <= 0:
        return waves
    from data_augment.augment import VoiceNoteAugmenter

    augmenter = VoiceNoteAugmenter(seed=config.seed)
    out = list(waves)
    for _ in range(config.augment_copies):
        out += [augmenter(w) for w in waves]
    return out


def _crop(wave: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    if len(wave) <= length:
        return wave
    start = int(rng.integers(len(wave) - length + 1))
    return wave[start : start + length]


def _inputs(extractor: Any, waves: Sequence[np.ndarray]) -> dict[str, torch.Tensor]:
    """Model inputs for a batch: padded with a mask only if the extractor uses masks."""
    with_mask = bool(getattr(extractor, "return_attention_mask", False))
    inputs = extractor(
        [np.asarray(w, np.float32) for w in waves],
        sampling_rate=SAMPLE_RATE,
        return_tensors="pt",
        padding=True,
        return_attention_mask=with_mask,
    )
    return dict(inputs)


@torch.inference_mode()
def _logits(model: Any, extractor: Any, waves: Sequence[np.ndarray]) -> np.ndarray:
    """Logits of whole clips, one at a time (padding changes HuBERT-base's answer)."""
    model.eval()
    if not waves:
        return np.zeros((0, model.config.num_labels), np.float32)
    return np.concatenate([model(**_inputs(extractor, [w])).logits.float().numpy() for w in waves])


def _fold_temperature(model: Any, temperature: float) -> None:
    """Divide the classifier layer by the temperature, so plain softmax gives calibrated output."""
    head = getattr(model, "classifier", None)
    if not isinstance(head, torch.nn.Linear):
        raise ValueError(f"{type(model).__name__} has no linear classifier to calibrate")
    with torch.no_grad():
        head.weight.mul_(1.0 / temperature)
        if head.bias is not None:
            head.bias.mul_(1.0 / temperature)

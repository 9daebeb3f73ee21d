"""The HuBERT recipe: fine-tune a transformers audio classifier from a checkpoint folder.

Any checkpoint `AutoModelForAudioClassification` loads (HuBERT, wav2vec2, WavLM) gets a new head
over the training labels and is fine-tuned through the shared fit loop (data_augment.fit), with
the same split, class-weighted loss, early stopping and temperature scaling as the compact model.
The run folder is a transformers folder (`save_pretrained`) that
`inference.models.hf.HFAudioClassifier` loads; the fitted temperature is folded into the
classifier layer, since that loader knows nothing of temperatures.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from data_augment.calibrate import fit_temperature, softmax
from data_augment.datasets import SpeakerSplit
from data_augment.fit import (
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
from inference.models.base import SAMPLE_RATE

DEFAULT_LEARNING_RATE = 5e-5


def train_hubert(
    split: SpeakerSplit, config: TrainConfig, out: Path, *, progress: bool = True
) -> TrainResult:
    """Fine-tune `config.init` on the split; save the calibrated model into `out`."""
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
    val_waves = load_waveforms(split.val, progress=progress)
    val_known = [i for i, clip in enumerate(split.val) if clip.label in index]
    val_targets = [index[split.val[i].label] for i in val_known]
    recipe = HubertRecipe(
        model,
        extractor,
        train_waves,
        [index[clip.label] for clip in split.train],
        [val_waves[i] for i in val_known],
        val_targets,
        labels,
        config,
    )
    fitted = fit(recipe, config, rng, desc="fine-tuning", progress=progress)
    calibration = None
    val_eval = None
    if val_known:
        val_logits = _logits(model, extractor, recipe.val_waves)
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
        speakers=speakers_of(split),
        clips=clip_counts(split),
        history=fitted.history,
        best_epochs=[fitted.best_epoch],
        calibration=calibration,
        val=val_eval,
        test=test_eval,
        train_seconds=time.perf_counter() - started,
        n_parameters=sum(p.numel() for p in model.parameters()),
    )


class HubertRecipe(Recipe):
    """Fine-tuning hooks: random crops of raw waveforms in, the model's own logits scored whole."""

    # Warm-up then decay: the usual fine-tuning schedule, and what a from-scratch transformer needs.
    warmup = 0.1
    default_learning_rate = DEFAULT_LEARNING_RATE

    def __init__(
        self,
        model: Any,
        extractor: Any,
        train_waves: Sequence[np.ndarray],
        train_targets: Sequence[int],
        val_waves: Sequence[np.ndarray],
        val_targets: Sequence[int],
        labels: Sequence[str],
        config: TrainConfig,
    ) -> None:
        self.model, self.extractor, self.labels = model, extractor, labels
        self.train_waves, self.train_targets = train_waves, train_targets
        self.val_waves, self.val_targets = val_waves, val_targets
        self.n_train = len(train_targets)
        self.has_val = bool(val_targets)
        # Clean waveforms first, then each augmented copy (see _with_augmented_copies).
        self.copies = len(train_waves) // max(self.n_train, 1)
        self.weights = class_weights(train_targets, len(labels))
        self.crop = max(1, round(config.crop_s * SAMPLE_RATE))

    def parameters(self) -> Iterable[torch.nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def on_epoch_start(self) -> None:
        self.model.train()

    def batch_loss(self, rows: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        n = self.n_train
        pieces = [
            _crop(self.train_waves[int(rng.integers(self.copies)) * n + i], self.crop, rng)
            for i in rows
        ]
        y = torch.tensor([self.train_targets[i] for i in rows])
        logits = self.model(**_inputs(self.extractor, pieces)).logits
        return F.cross_entropy(logits, y, weight=self.weights)

    def validate(self) -> Validation:
        if not self.val_targets:
            return Validation(0.0, 0.0, key=(0.0,))
        val_logits = _logits(self.model, self.extractor, self.val_waves)
        metrics = compute_metrics(self.val_targets, softmax(val_logits), self.labels)
        return Validation(metrics.uar, metrics.accuracy, key=(metrics.uar,))

    def state(self) -> dict[str, Any]:
        return copy.deepcopy(self.model.state_dict())

    def restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state)
        self.model.eval()


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

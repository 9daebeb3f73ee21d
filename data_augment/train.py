"""Training emotion models on labelled clips, speaker-independently, into a self-describing run folder.

`train` splits the clips by speaker (train / validation / test), hands the split to the chosen
recipe and writes the run folder: the model (loadable by `inference.models.load_model`),
`train_config.json`, `labels.json`, `metrics.json` and confusion matrices. The recipes:
data_augment.compact_recipe (the compact CNN) and data_augment.hubert_recipe (fine-tuning a
transformers checkpoint) train through the one fit loop of data_augment.fit; the Whisper head
(data_augment.whisper_head) is a logistic regression on cached embeddings, with no epochs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from data_augment.compact_recipe import prepare_features, run_fold, train_compact
from data_augment.datasets import Clip, SpeakerSplit, speaker_split, split_speakers
from data_augment.fit import (
    Architecture,
    EpochStats,
    TrainConfig,
    TrainResult,
    class_weights,
    clip_counts,
    labels_of,
    seed_everything,
    speakers_of,
)
from data_augment.hubert_recipe import train_hubert
from data_augment.scoring import write_evaluation
from data_augment.whisper_head import train_whisper_head

# What callers of the training entry point use, importable from here as before.
__all__ = [
    "EVALUATION_ONLY",
    "Architecture",
    "EpochStats",
    "TrainConfig",
    "TrainResult",
    "class_weights",
    "labels_of",
    "prepare_features",
    "run_fold",
    "seed_everything",
    "split_for_training",
    "train",
    "train_head",
    "write_run",
]

# Corpora whose licence forbids training a model that ships (see ../shared/data/README.md).
EVALUATION_ONLY = frozenset({"urdu"})


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


def train_head(
    split: SpeakerSplit, config: TrainConfig, out: Path, *, progress: bool = True
) -> TrainResult:
    """Fit the Whisper emotion head on cached embeddings (data_augment.whisper_head)."""
    model, fit, evaluations, seconds = train_whisper_head(
        split,
        out=out,
        encoder_spec=config.encoder,
        cache_dir=Path(config.cache_dir),
        copies=config.augment_copies if config.augment else 0,
        crops=config.head_crops if config.augment else 0,
        babble=config.head_babble if config.augment else 0,
        stages=config.head_stages,
        corpus_weights=dict(config.corpus_weights),
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
        speakers=speakers_of(split),
        clips=clip_counts(split),
        history=[],
        best_epochs=[],
        calibration=fit.calibration,
        val=evaluations["val"],
        test=evaluations["test"],
        train_seconds=seconds,
        n_parameters=sum(h.weight.size + h.bias.size for h in heads),
    )


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

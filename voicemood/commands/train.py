"""`voicemood train`: train the compact model or fine-tune a HuBERT-architecture checkpoint.

The split is always speaker-independent; the run folder holds the model, its config, label map,
metrics and confusion matrices, and loads as VOICEMOOD_MODEL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voicemood.commands._clips import add_clip_arguments, use_threads
from voicemood.settings import Settings

NAME = "train"
HELP = "Train an emotion model on labelled clips (speaker-independent split) into a run folder."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_clip_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="run folder to write")
    parser.add_argument(
        "--arch",
        choices=("whisper-head", "compact", "hubert"),
        default="whisper-head",
        help="whisper-head: an emotion head over the Whisper encoder (the default model, seconds "
        "once embeddings are cached); compact: the small log-mel CNN; hubert: fine-tune --init",
    )
    parser.add_argument(
        "--head-c",
        type=float,
        default=0.03,
        help="whisper-head: inverse L2 strength of the logistic-regression head",
    )
    parser.add_argument(
        "--head-stages",
        choices=("all", "last"),
        default="all",
        help="whisper-head: read all seven encoder stages (default) or only the last",
    )
    parser.add_argument(
        "--head-crops",
        type=int,
        default=1,
        help="whisper-head: short voiced crops (0.5-4 s) of each training clip",
    )
    parser.add_argument(
        "--head-babble",
        type=int,
        default=1,
        help="whisper-head: copies of each training clip with other speakers talking underneath",
    )
    parser.add_argument(
        "--corpus-weight",
        action="append",
        default=[],
        metavar="CORPUS=W",
        help="whisper-head: weigh a corpus's clips by W (repeatable), e.g. korean=5",
    )
    parser.add_argument("--init", help="checkpoint folder to fine-tune (--arch hubert)")
    parser.add_argument(
        "--epochs",
        type=int,
        default=60,
        help="passes over the training part at most (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="clips per optimiser step (default: %(default)s)"
    )
    parser.add_argument("--lr", type=float, help="peak learning rate (default per architecture)")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed for the speaker split, augmentation and weights (default: %(default)s)",
    )
    parser.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="voice-note augmentation: codec, noise, room, pitch, tempo, gain",
    )
    parser.add_argument(
        "--augment-copies",
        type=int,
        default=2,
        metavar="K",
        help="augmented copies of each training clip, beside the clean one (default: %(default)s)",
    )
    parser.add_argument(
        "--members", type=int, default=1, help="nets trained with seeds seed, seed+1, ... averaged"
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=15,
        help="stop after this many epochs without a gain in validation UAR (default: %(default)s)",
    )
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=0.15,
        help="share of speakers held out for early stopping and calibration (default: %(default)s)",
    )
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=0.15,
        help="share of speakers held out for the final test; ignored with --test-speakers (default: %(default)s)",
    )
    parser.add_argument(
        "--test-speakers",
        nargs="+",
        default=(),
        metavar="SPEAKER",
        help='explicit test speakers, e.g. "ravdess:17 ravdess:18"',
    )
    parser.add_argument("--max-steps", type=int, help="stop after this many optimiser steps")
    parser.add_argument(
        "--no-freeze-encoder",
        action="store_true",
        help="train the convolutional encoder too (--arch hubert from scratch)",
    )
    parser.add_argument("--version", default="", help="model version recorded in the run folder")


def run(args: argparse.Namespace, settings: Settings) -> int:

    from data_augment.datasets import DatasetError, read_dataset
    from data_augment.train import TrainConfig, train
    from inference.errors import VoiceMoodError

    use_threads(args)
    config = TrainConfig(
        arch=args.arch,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        augment=args.augment,
        augment_copies=args.augment_copies,
        members=args.members,
        patience=args.patience,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        test_speakers=tuple(args.test_speakers),
        max_steps=args.max_steps,
        init=args.init,
        freeze_feature_encoder=not args.no_freeze_encoder,
        version=args.version,
        head_c=args.head_c,
        head_stages=args.head_stages,
        head_crops=args.head_crops,
        head_babble=args.head_babble,
        corpus_weights=_corpus_weights(args.corpus_weight),
        encoder=settings.encoder,
        cache_dir=str(settings.cache_dir),
    )
    try:
        clips = read_dataset(args.dataset)
        result = train(clips, config, args.out, progress=True)
    except (DatasetError, VoiceMoodError, ValueError) as error:
        print(f"voicemood train: {error}", file=sys.stderr)
        return 2
    print(f"run folder: {result.run_dir}")
    print(f"labels: {', '.join(result.labels)}")
    for part, speakers in result.speakers.items():
        print(f"{part} speakers ({len(speakers)}): {' '.join(speakers)}")
    if result.best_epochs:
        best = ", ".join(str(epoch + 1) for epoch in result.best_epochs)
        print(f"best epoch(s) {best} of {config.epochs}")
    print(f"{result.n_parameters:,} parameters, {result.train_seconds:.0f} s")
    if result.calibration is not None:
        c = result.calibration
        where = "validation" if result.val is not None else "out-of-fold training speakers"
        print(
            f"temperature {c.temperature:.3f} on {where}: "
            f"ECE {c.ece_before:.3f} -> {c.ece_after:.3f}"
        )
    if result.val is not None:
        print(f"validation\n{result.val.summary()}")
    if result.test is not None:
        print(f"test (speakers never trained on)\n{result.test.summary()}")
    return 0


def _corpus_weights(items: list[str]) -> tuple[tuple[str, float], ...]:
    """`--corpus-weight korean=5` as (("korean", 5.0),); a malformed one exits with a sentence."""
    out = []
    for item in items:
        name, sep, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not name or weight <= 0:
            raise SystemExit(
                f"voicemood train: --corpus-weight takes CORPUS=W with W > 0, not {item!r}"
            )
        out.append((name.strip().lower(), weight))
    return tuple(out)

"""`voicemood eval`: score a model on labelled clips, or the compact recipe leave-one-speaker-out.

Prints accuracy, UAR, macro-F1 and ECE (overall, per corpus, on four classes) and writes
metrics JSON and confusion-matrix PNGs into --out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from voicemood.commands._clips import add_clip_arguments, use_threads
from voicemood.settings import Settings

NAME = "eval"
HELP = "Evaluate a model on labelled clips (accuracy, UAR, macro-F1, ECE, confusion matrix)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_clip_arguments(parser)
    parser.add_argument(
        "--model", help="model folder or hub id (default: VOICEMOOD_MODEL, bundled)"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/eval"), help="where to write")
    parser.add_argument(
        "--collapse4",
        action="store_true",
        help="score only neutral, happy, sad and angry clips, choosing among those four",
    )
    parser.add_argument(
        "--loso",
        action="store_true",
        help="leave-one-speaker-out: train a compact model per speaker instead of loading one",
    )
    parser.add_argument("--epochs", type=int, default=30, help="--loso: epochs per fold")
    parser.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="--loso: train each fold with voice-note augmentation (default: off)",
    )
    parser.add_argument(
        "--augment-copies",
        type=int,
        default=1,
        metavar="K",
        help="--loso --augment: augmented copies of each training clip (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="--loso: seed for each fold's training (default: %(default)s)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:

    from data_augment.datasets import DatasetError, read_dataset
    from data_augment.evaluate import FOUR_CLASSES, evaluate_model, write_evaluation
    from inference.errors import VoiceMoodError

    use_threads(args)
    if args.loso and args.model:
        print("voicemood eval: --loso trains its own models; leave out --model", file=sys.stderr)
        return 2
    classes = FOUR_CLASSES if args.collapse4 else None
    try:
        clips = read_dataset(args.dataset)
        if args.loso:
            return _loso(clips, args, classes)
        from inference.models import load_model

        model = load_model(
            args.model or settings.model,
            device=settings.device,
            encoder=settings.encoder,
            cache_dir=settings.cache_dir,
        )
        print(f"model: {model.name} ({', '.join(model.labels)})")
        evaluation = evaluate_model(model, clips, classes=classes, progress=True)
    except (DatasetError, VoiceMoodError, ValueError) as error:
        print(f"voicemood eval: {error}", file=sys.stderr)
        return 2
    print(evaluation.summary())
    written = write_evaluation(evaluation, args.out)
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _loso(clips: list, args: argparse.Namespace, classes: tuple[str, ...] | None) -> int:
    from data_augment.evaluate import leave_one_speaker_out, write_evaluation
    from data_augment.train import TrainConfig

    config = TrainConfig(
        epochs=args.epochs,
        augment=args.augment,
        augment_copies=args.augment_copies,
        seed=args.seed,
        test_fraction=0.0,
    )
    result = leave_one_speaker_out(clips, config, classes=classes, progress=True)
    print(result.evaluation.summary())
    for speaker, uar in result.per_speaker_uar.items():
        print(f"  {speaker}: UAR {uar:.3f}")
    written = write_evaluation(result.evaluation, args.out, prefix="loso")
    path = args.out / "loso_metrics.json"
    path.write_text(json.dumps(result.to_json(), indent=2) + "\n", "utf-8")
    print(
        f"{len(result.per_speaker_uar)} folds in {result.seconds:.0f} s; wrote {written[0].parent}"
    )
    return 0

"""`voicemood retrain`: refit the Whisper head with donated feedback, behind a guard set.

The logic lives in data_augment.retrain; this module reads the data, prints the report and turns
a refused retrain into a non-zero exit, so a script that retrains nightly leaves the bot alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voicemood.settings import Settings

NAME = "retrain"
HELP = "Retrain the emotion head with exported feedback; refuse it if a guard set gets worse."

# Where the team keeps the acted corpora, relative to the working folder and to the repository.
DATA_ROOTS = (
    Path("../shared/data"),
    Path(__file__).resolve().parents[2].parent / "shared" / "data",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feedback",
        action="append",
        required=True,
        type=Path,
        metavar="MANIFEST",
        help="a manifest.csv written by `voicemood export-feedback`; repeat to combine",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="run folder to write (new, empty, or the head folder VOICEMOOD_MODEL watches)",
    )
    parser.add_argument(
        "--dataset",
        action="append",
        metavar="SPEC",
        help="acted training data, e.g. ravdess:FOLDER; default: the corpora the current "
        "model's card names, found under ../shared/data",
    )
    parser.add_argument("--guard-margin", type=float, default=0.02, help="UAR the guard may lose")
    parser.add_argument(
        "--guard-speakers",
        nargs="+",
        default=(),
        metavar="SPEAKER",
        help='acted speakers held out as the guard set (default "ravdess:17" ... "ravdess:20")',
    )
    parser.add_argument(
        "--feedback-weight", type=float, default=3.0, help="loss weight of a feedback clip"
    )
    parser.add_argument("--augment-copies", type=int, help="default: as the current model")
    parser.add_argument("--head-c", type=float, help="default: as the current model")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the augmented copies and the speaker split"
    )
    parser.add_argument("--version", default="", help="model version (default: today-retrained)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from data_augment.datasets import DatasetError, read_dataset, read_manifest
    from data_augment.retrain import RetrainConfig, RetrainError, default_datasets, retrain
    from inference.errors import VoiceMoodError
    from inference.models import BUNDLED_DIR, HEAD_MARKER
    from inference.models.whisper_head import read_head

    current = Path(settings.model).expanduser() if settings.model else BUNDLED_DIR
    card = read_head(current)[0] if (current / HEAD_MARKER).is_file() else None
    trained = card.training if card else {}
    try:
        datasets = args.dataset or default_datasets(current, DATA_ROOTS)
        acted = read_dataset(datasets)
        feedback = [clip for manifest in args.feedback for clip in read_manifest(manifest)]
        config = RetrainConfig(
            guard_speakers=tuple(args.guard_speakers),
            guard_margin=args.guard_margin,
            feedback_weight=args.feedback_weight,
            copies=args.augment_copies
            if args.augment_copies is not None
            else int(trained.get("copies", 2)),
            c=args.head_c if args.head_c is not None else float(trained.get("c", 0.03)),
            seed=args.seed,
            encoder=settings.encoder,
            cache_dir=settings.cache_dir,
            version=args.version,
            retrained_from=f"whisper-head:{card.version}" if card else "",
        )
        result = retrain(acted, feedback, config, args.out, progress=sys.stderr.isatty())
    except (DatasetError, RetrainError, VoiceMoodError) as error:
        print(f"voicemood retrain: {error}", file=sys.stderr)
        return 2
    print(result.report.summary())
    if not result.report.passed:
        print(f"voicemood retrain: {result.report.reason}", file=sys.stderr)
        return 1
    return 0

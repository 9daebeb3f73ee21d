"""Arguments `train` and `eval` share: which labelled clips to read, and how many CPU threads."""

from __future__ import annotations

import argparse


def add_clip_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        action="append",
        required=True,
        metavar="SPEC",
        help="ravdess:FOLDER, emodb:FOLDER, ... or a manifest .csv; repeat to combine",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")


def use_threads(args: argparse.Namespace) -> None:
    """Apply --threads, when given, before any torch work starts."""
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

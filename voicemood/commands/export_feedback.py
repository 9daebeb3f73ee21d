"""`voicemood export-feedback OUT_DIR`: donated, voted notes as a manifest `voicemood train` reads."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from voicemood.settings import Settings

NAME = "export-feedback"
HELP = "Write donated voice notes with their voted labels as a training manifest."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="a new or empty folder")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from inference.labels import CANONICAL_LABELS
    from storage.errors import StorageError
    from storage.export import export_feedback
    from storage.store import Store

    async def export() -> Path:
        store = await Store.open(
            settings.database_target, settings.data_dir, labels=CANONICAL_LABELS
        )
        async with store:
            return await export_feedback(store, args.out_dir)

    try:
        manifest = asyncio.run(export())
    except StorageError as error:
        print(f"voicemood: {error}", file=sys.stderr)
        return 2
    rows = sum(1 for _ in manifest.open(encoding="utf-8")) - 1
    print(f"{rows} donated clips with a voted label written to {manifest}")
    return 0

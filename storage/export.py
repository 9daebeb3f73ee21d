"""Export donated audio with its final (voted) label for retraining.

The layout is what data_augment.datasets.read_manifest reads: `manifest.csv` with the columns
`path,label,speaker`, paths relative to the CSV's folder, speakers as "<platform>:<person id>".
"""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import shutil
import tempfile
from pathlib import Path

from storage.errors import FolderNotEmpty
from storage.models import DonatedClip
from storage.store import Store

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("path", "label", "speaker")

log = logging.getLogger(__name__)


async def export_feedback(store: Store, out_dir: str | Path) -> Path:
    """Copy every donated, voted clip into `out_dir` and write its manifest; returns the CSV path.

    `out_dir` must be new or empty: a reused folder could still hold audio whose donor has
    since withdrawn.
    """
    clips = [clip async for clip in store.feedback.donated_clips()]
    return await asyncio.to_thread(_write_export, clips, store.data_dir, Path(out_dir))


def _write_export(clips: list[DonatedClip], data_dir: Path, out: Path) -> Path:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FolderNotEmpty(
            f"Export folder {out} is not empty; choose a new one.", folder=str(out)
        )
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for clip in clips:
        relative = clip.audio.relative_to(data_dir).as_posix()
        if not clip.audio.is_file():
            log.warning("note %d names audio that is missing; left out of the export", clip.note_id)
            continue
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip.audio, target)
        rows.append((relative, clip.label, clip.speaker))
    manifest = out / MANIFEST_NAME
    fd, temp = tempfile.mkstemp(dir=out, prefix=".manifest", suffix=".tmp")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows(rows)
    os.replace(temp, manifest)
    return manifest

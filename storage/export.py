"""Export donated audio with its final (voted) label for retraining.

The layout is what data_augment.datasets.read_manifest reads: `manifest.csv` with the columns
`path,label,speaker`, paths relative to the CSV's folder, speakers as "<platform>:<person id>".
"""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import tempfile
from pathlib import Path

from storage.errors import FolderNotEmpty
from storage.store import Store

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("path", "label", "speaker")

log = logging.getLogger(__name__)


async def export_feedback(store: Store, out_dir: str | Path) -> Path:
    """Copy every donated, voted clip into `out_dir` and write its manifest; returns the CSV path.

    `out_dir` must be new or empty: a reused folder could still hold audio whose donor has
    since withdrawn. The audio is read from wherever the store keeps it (files beside a SQLite
    database, rows of PostgreSQL), so retraining reads donated notes the same way from either.
    """
    out = Path(out_dir)
    clips = [clip async for clip in store.feedback.donated_clips()]
    await asyncio.to_thread(_make_empty_folder, out)
    rows = []
    for clip in clips:
        data = await store.notes.read_audio(clip.note_id, clip.audio_path)
        if data is None:
            log.warning("note %d names audio that is missing; left out of the export", clip.note_id)
            continue
        await asyncio.to_thread(_write_file, out / clip.audio_path, data)
        rows.append((clip.audio_path, clip.label, clip.speaker))
    return await asyncio.to_thread(_write_manifest, out, rows)


def _make_empty_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FolderNotEmpty(
            f"Export folder {out} is not empty; choose a new one.", folder=str(out)
        )
    out.mkdir(parents=True, exist_ok=True)


def _write_file(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _write_manifest(out: Path, rows: list[tuple[str, str, str]]) -> Path:
    manifest = out / MANIFEST_NAME
    fd, temp = tempfile.mkstemp(dir=out, prefix=".manifest", suffix=".tmp")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows(rows)
    os.replace(temp, manifest)
    return manifest

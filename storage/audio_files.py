"""Donated audio on disk under `<data_dir>/audio/<platform>/<person id>/<note id>.<suffix>`.

Names hold only storage's own ids, so a folder listing reveals nobody. Files are written with a
temp file + os.replace before the note row that names them commits, and deleted only after the
rows that name them are gone, so a crash leaves at worst an unnamed file, which `sweep` removes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

AUDIO_FOLDER = "audio"
_SUFFIX = re.compile(r"^[a-z0-9]{1,8}$")


def audio_relpath(platform: str, person_id: int, note_id: int, suffix: str) -> str:
    """Where a note's donated audio lives, relative to the data folder (always with "/")."""
    suffix = suffix.lower().lstrip(".")
    if not _SUFFIX.match(suffix):
        raise ValueError(f"audio suffix must be a short file extension, not {suffix!r}")
    return f"{AUDIO_FOLDER}/{platform}/{person_id}/{note_id}.{suffix}"


def write_atomically(root: Path, relpath: str, data: bytes) -> None:
    """Write `data` so that `root/relpath` is either absent or complete, never half-written."""
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_folder(target.parent)


def remove_files(root: Path, relpaths: Iterable[str]) -> int:
    """Delete the named files (missing ones are fine); returns how many existed."""
    removed = 0
    for relpath in relpaths:
        with contextlib.suppress(FileNotFoundError):
            (root / relpath).unlink()
            removed += 1
    return removed


def remove_person_folder(root: Path, platform: str, person_id: int) -> int:
    """Delete a person's whole audio folder (stray files included); returns the files it held."""
    folder = root / AUDIO_FOLDER / platform / str(person_id)
    if not folder.is_dir():
        return 0
    count = sum(1 for path in folder.rglob("*") if path.is_file())
    shutil.rmtree(folder)
    return count


def sweep(root: Path, keep: set[str]) -> int:
    """Delete files under the audio folder that no note names (left by a crash); returns how many."""
    base = root / AUDIO_FOLDER
    if not base.is_dir():
        return 0
    removed = 0
    for path in sorted(base.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(root).as_posix() not in keep:
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return removed


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open folders and needs no such step."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

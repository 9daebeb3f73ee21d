"""A full disk, for real: the database and the donated audio live on a small tmpfs mounted for the
test, which a filler file fills to the last byte. Nothing is mocked; SQLite and the audio writer
meet ENOSPC exactly as they would on a full server disk."""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.core.service import VoiceMoodService
from bots.core.values import Reply, User, VoiceNote, Where
from bots.i18n import t
from inference.analysis import AnalysisConfig, Analyzer
from inference.labels import CANONICAL_LABELS
from inference.models.hf import HFAudioClassifier
from inference.worker import InferenceWorker
from storage.errors import StorageFull
from storage.store import Store
from tests.storage_factory import add_note

DISK_SIZE = "4m"

DONOR = User("telegram", "101", "Dana", "en")
LISTENER = User("telegram", "102", "Lee", "en")
NEWCOMER = User("telegram", "103", "Min", "ko")
DM_DONOR = Where("telegram", "101", is_group=False)
DM_LISTENER = Where("telegram", "102", is_group=False)
DM_NEWCOMER = Where("telegram", "103", is_group=False)
GROUP = Where("telegram", "-500", is_group=True)


@dataclass(frozen=True)
class Snapshot:
    """Every row of every table, and every file under the data folder with its bytes."""

    rows: dict[str, set[tuple[object, ...]]]
    files: dict[str, bytes]


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A tmpfs of DISK_SIZE mounted for this test only (needs root or CAP_SYS_ADMIN)."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no `mount` command here, so a small filesystem cannot be made to fill up")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        # A lazy unmount only if something still holds a file open: no mount outlives its test.
        if subprocess.run(["umount", str(mountpoint)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=True)


async def test_a_full_disk_answers_politely_keeps_everything_stored_and_stores_again_once_freed(
    small_disk, tiny_hubert_dir, make_audio, caplog
):
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    later_ogg = make_audio("later.ogg", 2.0, seed=1).read_bytes()
    db_path, data_dir = small_disk / "voicemood.sqlite3", small_disk / "data"
    worker = InferenceWorker(HFAudioClassifier.load(str(tiny_hubert_dir)))
    async with worker:
        analyzer = Analyzer(worker, AnalysisConfig())
        async with await Store.open(db_path, data_dir, labels=CANONICAL_LABELS) as store:
            service = VoiceMoodService(analyzer, store)
            group_note = await _fill_with_history(service, ogg)
        # Closing checkpoints and removes the WAL, so the next commit has to grow a file.
        before = _snapshot(db_path, data_dir)
        assert len(before.files) == 1 and len(before.rows["votes"]) == 1
        [(donated_id,)] = _query(db_path, "SELECT id FROM notes WHERE audio_path IS NOT NULL")

        async with await Store.open(db_path, data_dir, labels=CANONICAL_LABELS) as store:
            service = VoiceMoodService(analyzer, store)
            filler = _fill(small_disk)
            with caplog.at_level(logging.INFO, logger="bots.service"):
                donated = await service.on_voice(DONOR, DM_DONOR, _note(ogg, "2"))
                plain = await service.on_voice(LISTENER, DM_LISTENER, _note(ogg, "2"))
                in_group = await service.on_voice(LISTENER, GROUP, _note(ogg, "11"))
                newcomer = await service.on_voice(NEWCOMER, DM_NEWCOMER, _note(ogg, "1"))
                vote = await service.on_button(DONOR, GROUP, f"lab:{group_note}:sad")
                # The web page's vote on a donor's own note: "storage full", not "note gone".
                upload_vote = await service.on_upload_vote(DONOR, donated_id, "sad")
                # While the disk is still full: nothing half-written, nothing new.
                assert _files(data_dir) == before.files

                filler.unlink()
                recovered = await service.on_voice(DONOR, DM_DONOR, _note(later_ogg, "3"))
        failures = [r for r in caplog.records if "storage failed" in r.message]
        recoveries = [r for r in caplog.records if "storage works again" in r.message]

    for reply in (donated, plain, in_group):
        _assert_answered_but_not_saved(reply, "en")
    _assert_answered_but_not_saved(newcomer, "ko")
    assert vote.notice == t("en", "error.storage_full")
    assert upload_vote == "storage_full"
    assert len(failures) == 1 and len(recoveries) == 1

    assert recovered is not None and recovered.note_id is not None and recovered.buttons
    assert t("en", "error.storage_full") not in recovered.text

    assert _integrity(db_path) == "ok"
    after = _snapshot(db_path, data_dir)
    for table, rows in before.rows.items():
        assert rows <= after.rows[table], f"rows of {table} changed or vanished"
    assert after.files.items() >= before.files.items()
    named = {path for (path,) in _query(db_path, "SELECT audio_path FROM notes")}
    assert set(after.files) == named - {None}, "a file no note names, or a note without its file"
    [(recovered_path,)] = _query(
        db_path, "SELECT audio_path FROM notes WHERE id = ?", recovered.note_id
    )
    assert after.files[str(recovered_path)] == later_ogg
    messages = _query(db_path, "SELECT platform_message_id FROM notes ORDER BY 1")
    assert [m for (m,) in messages] == ["1", "1", "10", "3"]

    # Reopening sweeps files no note names: it must find none to remove.
    async with await Store.open(db_path, data_dir, labels=CANONICAL_LABELS) as reopened:
        for note_id in (group_note, recovered.note_id):
            note = await reopened.get_note(note_id)
            assert note.label in CANONICAL_LABELS
        assert await reopened.get_person("telegram", NEWCOMER.id) is None
    assert _files(data_dir) == after.files


async def test_a_note_whose_audio_fits_but_whose_row_does_not_leaves_no_audio_file(small_disk):
    db_path, data_dir = small_disk / "voicemood.sqlite3", small_disk / "data"
    first, second = bytes(range(256)) * 40, bytes(range(255, -1, -1)) * 47
    async with await Store.open(db_path, data_dir, labels=CANONICAL_LABELS) as store:
        person = await store.ensure_person("telegram", "101")
        chat = await store.ensure_chat("telegram", "101", "private", owner=person)
        await store.give_consent(person, "donate_audio")
        kept = await add_note(store, person, chat, "1", audio=first)
    async with await Store.open(db_path, data_dir, labels=CANONICAL_LABELS) as store:
        filler = _fill(small_disk)
        # Free exactly the pages the audio needs: its file fits, the WAL cannot grow after it.
        page = os.statvfs(small_disk).f_frsize
        os.truncate(filler, filler.stat().st_size - math.ceil(len(second) / page) * page)
        with pytest.raises(StorageFull) as raised:
            await add_note(store, person, chat, "2", audio=second)
        assert isinstance(raised.value.__cause__, sqlite3.Error), (
            "the audio should fit, the row not"
        )
        assert _files(data_dir) == {kept.audio_path: first}

        filler.unlink()
        again = await add_note(store, person, chat, "2", audio=second)
        assert store.audio_file(again) is not None
    assert _integrity(db_path) == "ok"
    assert _files(data_dir) == {kept.audio_path: first, again.audio_path: second}


async def _fill_with_history(service: VoiceMoodService, ogg: bytes) -> int:
    """A donor with a kept note, a listener with notes in private and in a group, one vote.

    Returns the group note's id.
    """
    await service.on_command(DONOR, DM_DONOR, "donate", ["on"])
    for user in (DONOR, LISTENER):
        await service.on_command(user, GROUP, "optin", [])
    donated = await service.on_voice(DONOR, DM_DONOR, _note(ogg, "1"))
    plain = await service.on_voice(LISTENER, DM_LISTENER, _note(ogg, "1"))
    in_group = await service.on_voice(LISTENER, GROUP, _note(ogg, "10"))
    for reply in (donated, plain, in_group):
        assert reply is not None and reply.note_id is not None
    assert in_group is not None and in_group.note_id is not None
    voted = await service.on_button(DONOR, GROUP, f"ok:{in_group.note_id}")
    assert voted.edit is not None
    return in_group.note_id


def _assert_answered_but_not_saved(reply: Reply | None, lang: str) -> None:
    """The analysis reached the person, followed by the notice that it could not be saved."""
    assert reply is not None and reply.note_id is None and reply.buttons == ()
    answer, _, notice = reply.text.partition("\n\n")
    assert "%" in answer, reply.text
    assert notice == t(lang, "error.storage_full")


def _fill(disk: Path) -> Path:
    """Write a filler file until the filesystem refuses even one more byte."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    chunk = 1 << 16
    try:
        while chunk:
            try:
                os.write(fd, b"\0" * chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                chunk //= 2
    finally:
        os.close(fd)
    assert os.statvfs(disk).f_bavail == 0
    return filler


def _note(data: bytes, message_id: str) -> VoiceNote:
    async def fetch() -> bytes:
        return data

    return VoiceNote(message_id, fetch, size=len(data))


def _snapshot(db_path: Path, data_dir: Path) -> Snapshot:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        rows = {name: set(db.execute(f"SELECT * FROM {name}")) for name in tables}
    return Snapshot(rows, _files(data_dir))


def _files(data_dir: Path) -> dict[str, bytes]:
    """Every file under the data folder (temp files included), by path relative to it."""
    return {
        path.relative_to(data_dir).as_posix(): path.read_bytes()
        for path in data_dir.rglob("*")
        if path.is_file()
    }


def _query(db_path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return list(db.execute(sql, params))


def _integrity(db_path: Path) -> str:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])

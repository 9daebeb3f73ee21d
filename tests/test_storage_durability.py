"""Many concurrent writers lose nothing; a process killed mid-write leaves a sound database."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from storage.audio_files import AUDIO_FOLDER
from tests.storage_factory import add_note, database, open_store, raw_rows

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")

TASKS = 20
NOTES_PER_TASK = 10


async def test_concurrent_burst_of_notes_and_votes_loses_nothing(tmp_path, storage_backend):
    labels = ("happy", "sad", "angry", "calm")
    async with await open_store(tmp_path) as store:
        group = await store.ensure_chat("discord", "burst", "group")
        people = [await store.ensure_person("discord", f"p{i}") for i in range(10)]
        for person in people:
            await store.give_consent(person, "analyse", group)
        await store.give_consent(people[0], "donate_audio")

        async def writer(task: int) -> None:
            for k in range(NOTES_PER_TASK):
                speaker = people[(task + k) % len(people)]
                note = await add_note(
                    store, speaker, group, f"{task}-{k}", audio=b"OggS" if k == 0 else None
                )
                voter = people[(task + k + 1) % len(people)]
                await store.vote(voter, note.id, labels[(task + k) % len(labels)])
                # Reads interleave with the writes, as the summaries will.
                await store.chat_notes(group, last=5)

        await asyncio.gather(*(writer(task) for task in range(TASKS)))

        notes = await store.chat_notes(group)
        assert len(notes) == TASKS * NOTES_PER_TASK
        assert {n.platform_message_id for n in notes} == {
            f"{t}-{k}" for t in range(TASKS) for k in range(NOTES_PER_TASK)
        }
        finals = await store.final_labels([n.id for n in notes])
        for note in notes:
            task, k = map(int, note.platform_message_id.split("-"))
            assert finals[note.id] == labels[(task + k) % len(labels)]
        kept = [n for n in notes if n.audio_path]
        assert kept and all(n.person.id == people[0].id for n in kept)

    assert await raw_rows(tmp_path, "SELECT COUNT(*) FROM votes") == [(TASKS * NOTES_PER_TASK,)]
    if storage_backend == "sqlite":
        with sqlite3.connect(tmp_path / "db" / "voicemood.sqlite3") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []


# The child writes donated notes (audio included) and a vote on each, printing each committed index.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from storage.store import Store

    async def main():
        store = await Store.open(sys.argv[1], sys.argv[2])
        person = await store.ensure_person("telegram", "killed")
        chat = await store.ensure_chat("telegram", "killed", "private")
        await store.give_consent(person, "donate_audio")
        i = 0
        while True:
            note = await store.add_note(
                person, chat, message_id=i, duration_s=1.0, model="m", label="happy",
                confidence=0.5, probabilities={"happy": 0.5, "sad": 0.5},
                audio=i.to_bytes(4, "big") * 50_000)
            await store.vote(person, note.id, "sad")
            print(i, flush=True)
            i += 1

    asyncio.run(main())
    """
)
ACKNOWLEDGED = 25


# Kill at a few points after the last acknowledgement: inside the audio write, between the file
# and the commit, inside the vote (a row then often has a file no committed row names).
@pytest.mark.parametrize("kill_after_s", [0.001, 0.003, 0.009])
def test_sigkill_mid_write_leaves_a_sound_database_with_only_whole_notes(
    tmp_path, kill_after_s, storage_backend
):
    db_path, data = database(tmp_path), tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        acknowledged = -1
        while acknowledged < ACKNOWLEDGED - 1:
            line = child.stdout.readline()
            assert line, f"child stopped early: {child.stderr.read() if child.stderr else ''}"
            acknowledged = int(line)
        time.sleep(kill_after_s)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    if storage_backend == "sqlite":
        with sqlite3.connect(db_path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = asyncio.run(
        raw_rows(
            tmp_path,
            "SELECT n.platform_message_id, n.probabilities, n.audio_path, a.data"
            " FROM notes n LEFT JOIN note_audio a ON a.note_id = n.id",
        )
    )
    # Every commit the child reported survived the kill.
    assert {int(message) for message, _, _, _ in rows} >= set(range(ACKNOWLEDGED))
    for message, probabilities, audio_path, in_row in rows:
        assert json.loads(probabilities) == {"happy": 0.5, "sad": 0.5}
        assert audio_path is not None
        # SQLite: a whole file; PostgreSQL: a whole row, committed with its note.
        kept = (data / audio_path).read_bytes() if storage_backend == "sqlite" else in_row
        assert bytes(kept) == int(message).to_bytes(4, "big") * 50_000

    asyncio.run(_reopen_and_check(tmp_path, len(rows), files=storage_backend == "sqlite"))


async def _reopen_and_check(tmp_path, notes: int, *, files: bool) -> None:
    """Reopening sweeps any file the kill left unnamed, and the store keeps working."""
    async with await open_store(tmp_path) as store:
        person = await store.get_person("telegram", "killed")
        assert person is not None
        chat = await store.ensure_chat("telegram", "killed", "private")
        named = {n.audio_path for n in await store.chat_notes(chat)}
        assert len(named) == notes
        on_disk = {
            p.relative_to(store.data_dir).as_posix()
            for p in (store.data_dir / AUDIO_FOLDER).rglob("*")
            if p.is_file()
        }
        # PostgreSQL keeps the audio in rows: its data folder holds none.
        assert on_disk == (named if files else set())
        note = await add_note(store, person, chat, "after-restart")
        assert (await store.get_note(note.id)).platform_message_id == "after-restart"

"""How fast the Store takes a burst of analyses and votes from many tasks, against the naive way.

    python bench/storage.py [--notes 1000] [--tasks 50] [--runs 5] [--dir FOLDER]

Each run starts from a fresh database file and writes `--notes` analysed notes and as many votes
(one on each note) from `--tasks` asyncio tasks at once, then checks that nothing was lost.
- store: storage.Store (WAL, synchronous=NORMAL, one serialised writer, BEGIN IMMEDIATE per call,
  consent checked inside each note's transaction);
- naive: a new aiosqlite connection per write, SQLite's default rollback journal and
  synchronous=FULL, autocommit; the same rows, without any consent check.
Prints the median of the runs and the rate ratio against the naive way, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiosqlite

# This file is itself named storage.py, and Python puts its folder first on the path, where it
# would shadow the storage package: take that folder off before importing.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from storage.store import Store  # noqa: E402

PROBABILITIES = {"happy": 0.6, "sad": 0.3, "neutral": 0.1}
LABELS = ("happy", "sad", "angry", "calm")


async def run_store(folder: Path, notes: int, tasks: int) -> None:
    """The burst through the Store: every task adds notes and votes on each one."""
    async with await Store.open(folder / "store.sqlite3", folder / "data") as store:
        group = await store.people.ensure_chat("telegram", "-1", "group")
        people = [await store.people.ensure_person("telegram", i) for i in range(tasks)]
        for person in people:
            await store.consent.give(person, "analyse", group)

        async def task(t: int) -> None:
            for k in range(t, notes, tasks):
                note = await store.notes.add(
                    people[t],
                    group,
                    message_id=k,
                    duration_s=3.0,
                    model="bench",
                    label="happy",
                    confidence=0.6,
                    probabilities=PROBABILITIES,
                )
                await store.feedback.vote(people[(t + 1) % tasks], note.id, LABELS[k % len(LABELS)])

        await asyncio.gather(*(task(t) for t in range(tasks)))
    _check(folder / "store.sqlite3", notes)


async def run_naive(folder: Path, notes: int, tasks: int) -> None:
    """The same rows, each write on its own new connection, rollback journal, autocommit."""
    path = folder / "naive.sqlite3"
    async with await Store.open(path, folder / "naive-data") as store:
        group = await store.people.ensure_chat("telegram", "-1", "group")
        people = [await store.people.ensure_person("telegram", i) for i in range(tasks)]
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode = DELETE")
    probabilities = json.dumps(PROBABILITIES)

    async def write(sql: str, params: tuple[object, ...]) -> int:
        async with aiosqlite.connect(path, timeout=60.0, isolation_level=None) as db:
            await db.execute("PRAGMA foreign_keys = ON")
            cursor = await db.execute(sql, params)
            return int(cursor.lastrowid or 0)

    async def task(t: int) -> None:
        for k in range(t, notes, tasks):
            note_id = await write(
                "INSERT INTO notes (person_id, chat_id, platform_message_id, created_at,"
                " duration_s, model, label, confidence, probabilities)"
                " VALUES (?, ?, ?, ?, 3.0, 'bench', 'happy', 0.6, ?)",
                (people[t].id, group.id, str(k), time.time(), probabilities),
            )
            await write(
                "INSERT INTO votes (note_id, voter_id, label, created_at) VALUES (?, ?, ?, ?)",
                (note_id, people[(t + 1) % tasks].id, LABELS[k % len(LABELS)], time.time()),
            )

    await asyncio.gather(*(task(t) for t in range(tasks)))
    _check(path, notes)


def _check(path: Path, notes: int) -> None:
    with sqlite3.connect(path) as db:
        counts = db.execute(
            "SELECT (SELECT COUNT(*) FROM notes), (SELECT COUNT(*) FROM votes)"
        ).fetchone()
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
    if counts != (notes, notes) or ok != "ok":
        raise SystemExit(f"{path.name}: lost writes or damaged file: {counts}, {ok}")


def _time(
    runner: Callable[[Path, int, int], Coroutine[Any, Any, None]],
    root: Path,
    notes: int,
    tasks: int,
) -> float:
    with tempfile.TemporaryDirectory(dir=root) as folder:
        start = time.perf_counter()
        asyncio.run(runner(Path(folder), notes, tasks))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (a real disk)")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)

    results: dict[str, list[float]] = {"store": [], "naive": []}
    for _ in range(args.runs):
        # Interleaved, so both ways meet the same machine load.
        results["store"].append(_time(run_store, root, args.notes, args.tasks))
        results["naive"].append(_time(run_naive, root, args.notes, args.tasks))

    writes = 2 * args.notes
    naive = statistics.median(results["naive"])
    print(
        f"{args.notes} notes + {args.notes} votes from {args.tasks} tasks, "
        f"median of {args.runs} runs, files in {root}"
    )
    print(f"{'way':<8} {'median s':>9} {'min s':>7} {'writes/s':>9} {'vs naive':>9}")
    for name, times in results.items():
        median = statistics.median(times)
        print(
            f"{name:<8} {median:>9.3f} {min(times):>7.3f} {writes / median:>9.0f} "
            f"{naive / median:>8.1f}x"
        )


if __name__ == "__main__":
    main()

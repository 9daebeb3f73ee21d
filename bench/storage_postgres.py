"""The Store's burst of notes and votes on PostgreSQL against the same burst on SQLite.

    python bench/storage_postgres.py [--notes 1000] [--tasks 50] [--runs 5] [--replicas 3]

Each run writes `--notes` analysed notes and a vote on each from `--tasks` asyncio tasks into a
fresh database (bench/storage.py's burst), through:
- sqlite: the default store (one file, WAL, synchronous=NORMAL) - the baseline;
- postgres: one Store on PostgreSQL (a pool; every write transaction takes the write lock);
- postgres xN: `--replicas` Stores on one database at once, as N bot processes would be, the
  tasks split between them (their writes meet at the advisory lock).
PostgreSQL is VOICEMOOD_DATABASE_URL's server when set (the bench creates and drops databases on
it), else a throwaway cluster from Debian's binaries on 127.0.0.1 with fsync on and
synchronous_commit=off (a commit is not waited for, as SQLite's NORMAL does not). Prints the
median of the runs and each rate's ratio to SQLite's, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]  # see bench/storage.py
sys.path.insert(0, str(_HERE.parent))

from storage.store import Store  # noqa: E402
from tests.servers_postgres import Cluster, PostgresServer, find_binaries  # noqa: E402

PROBABILITIES = {"happy": 0.6, "sad": 0.3, "neutral": 0.1}
LABELS = ("happy", "sad", "angry", "calm")


async def burst(database: str | Path, data: Path, notes: int, tasks: int, replicas: int) -> None:
    stores = [await Store.open(database, data) for _ in range(replicas)]
    try:
        first = stores[0]
        group = await first.ensure_chat("telegram", "-1", "group")
        people = [await first.ensure_person("telegram", i) for i in range(tasks)]
        for person in people:
            await first.give_consent(person, "analyse", group)

        async def task(t: int) -> None:
            store = stores[t % replicas]
            for k in range(t, notes, tasks):
                note = await store.notes.add(
                    people[t], group, message_id=k, duration_s=3.0, model="bench",
                    label="happy", confidence=0.6, probabilities=PROBABILITIES,
                )  # fmt: skip
                await store.feedback.vote(people[(t + 1) % tasks], note.id, LABELS[k % len(LABELS)])

        await asyncio.gather(*(task(t) for t in range(tasks)))
        kept = await first.chat_notes(group)
        votes = await first.final_labels([n.id for n in kept])
        if len(kept) != notes or len(votes) != notes:
            raise SystemExit(f"lost writes: {len(kept)} notes, {len(votes)} votes of {notes}")
    finally:
        for store in stores:
            await store.close()


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer]:
    given = os.environ.get("VOICEMOOD_DATABASE_URL")
    if given:
        yield PostgresServer(given)
        return
    with Cluster(find_binaries(), crash_safe=True) as url:
        yield PostgresServer(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--replicas", type=int, default=3)
    args = parser.parse_args()
    ways = ("sqlite", "postgres", f"postgres x{args.replicas}")
    results: dict[str, list[float]] = {way: [] for way in ways}
    with postgres() as server, tempfile.TemporaryDirectory() as root:
        for run in range(args.runs):
            for way in ways:  # interleaved, so every way meets the same machine load
                folder = Path(root) / f"{run}-{way.replace(' ', '')}"
                database: str | Path = (
                    folder / "db.sqlite3"
                    if way == "sqlite"
                    else server.fresh_database(migrated=False)
                )
                replicas = args.replicas if "x" in way else 1
                start = time.perf_counter()
                asyncio.run(burst(database, folder / "data", args.notes, args.tasks, replicas))
                results[way].append(time.perf_counter() - start)

    writes = 2 * args.notes
    baseline = statistics.median(results["sqlite"])
    print(
        f"{args.notes} notes + {args.notes} votes from {args.tasks} tasks, "
        f"median of {args.runs} runs"
    )
    print(f"{'way':<13} {'median s':>9} {'min s':>7} {'writes/s':>9} {'vs sqlite':>10}")
    for way, times in results.items():
        median = statistics.median(times)
        print(
            f"{way:<13} {median:>9.3f} {min(times):>7.3f} {writes / median:>9.0f} "
            f"{baseline / median:>9.2f}x"
        )


if __name__ == "__main__":
    main()

"""What merging a note into its language's statistics costs, beside a personal baseline's update.

    python bench/language_stats.py [--notes 400] [--tasks 8] [--dim 7168] [--runs 5]

Each run has `--tasks` asyncio tasks (one person each, as many notes arriving at once) store
`--notes` notes' worth of running statistics of `--dim`-wide vectors (the bundled head's width)
into a fresh database, one of two ways, with the same Welford merge the bots do:
- baseline: each person's own /baseline statistics (store.baselines.update_baseline), the step
  every note of a person with /baseline on already takes - the reference;
- language: the language's statistics (store.languages.add_note), one row all the tasks
  merge into (on PostgreSQL a row-safe write that locks the row: SELECT ... FOR UPDATE).
on SQLite (one file) and on PostgreSQL (VOICEMOOD_DATABASE_URL's server when set, else a
throwaway cluster from Debian's binaries on 127.0.0.1, commits not waited for, as bench/
storage_postgres.py runs it), the ways interleaved per run so each meets the same machine load.
Prints the median of the runs, milliseconds per note and the ratio to the baseline's time on the
same engine in the same run; checks no note was lost. Not a test; nothing is asserted.
Measured 2026-12-06 on the 2 shared cores (load ~3.6), defaults, ms per note:
    sqlite    baseline 0.62   language 0.56 (0.90x)
    postgres  baseline 1.23   language 2.04 (1.66x)
Every note of one language waits for the one row's lock, so on PostgreSQL a language takes
about 500 notes a second across all replicas; the bots merge only with the setting on.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]  # see bench/storage.py
sys.path.insert(0, str(_HERE.parent))

from inference.baseline import SpeakerBaseline  # noqa: E402
from storage.language_stats import LanguageStatistics  # noqa: E402
from storage.models import StoredBaseline  # noqa: E402
from storage.store import Store  # noqa: E402

sys.path.insert(0, str(_HERE))
from storage_postgres import postgres  # noqa: E402

MODEL = "bench:1"
WAYS = ("baseline", "language")


async def run(
    database: str | Path, data: Path, way: str, notes: int, tasks: int, dim: int
) -> float:
    """Seconds the notes' merges took (opening the store and checking the count left out)."""
    store = await Store.open(database, data)
    try:
        people = [await store.people.ensure_person("telegram", i) for i in range(tasks)]
        for person in people:
            await store.baselines.give_consent(person)
        vectors = np.random.default_rng(0).normal(size=(notes, dim)).astype(np.float32)

        def merged_language(x: np.ndarray):  # noqa: ANN202
            def merged(kept: LanguageStatistics | None) -> LanguageStatistics:
                stats = _stats(kept.count, kept.stats) if kept else SpeakerBaseline.empty(dim)
                new = stats.updated(x)
                return LanguageStatistics("en", MODEL, new.count, dim, new.to_bytes())

            return merged

        def merged_baseline(x: np.ndarray):  # noqa: ANN202
            def merged(kept: StoredBaseline | None) -> StoredBaseline:
                stats = _stats(kept.count, kept.stats) if kept else SpeakerBaseline.empty(dim)
                new = stats.updated(x)
                return StoredBaseline(MODEL, new.count, dim, new.to_bytes())

            return merged

        async def task(t: int) -> None:
            for k in range(t, notes, tasks):
                if way == "language":
                    await store.languages.add_note(
                        people[t], "en", MODEL, merged_language(vectors[k])
                    )
                else:
                    await store.baselines.update_baseline(
                        people[t], MODEL, merged_baseline(vectors[k])
                    )

        start = time.perf_counter()
        await asyncio.gather(*(task(t) for t in range(tasks)))
        seconds = time.perf_counter() - start
        if way == "language":
            kept = await store.languages.statistics("en")
            counted = kept.count if kept else 0
        else:
            counted = 0
            for person in people:
                found = await store.baselines.baseline(person, MODEL)
                counted += found.count if found else 0
        if counted != notes:
            raise SystemExit(f"{way}: {counted} of {notes} notes counted")
        return seconds
    finally:
        await store.close()


def _stats(count: int, data: bytes) -> SpeakerBaseline:
    return SpeakerBaseline.from_bytes(count, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=400)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--dim", type=int, default=7168)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    engines = ("sqlite", "postgres")
    results: dict[tuple[str, str], list[float]] = {(e, w): [] for e in engines for w in WAYS}
    with postgres() as server, tempfile.TemporaryDirectory() as root:
        for r in range(args.runs):
            for engine in engines:
                for way in WAYS:
                    folder = Path(root) / f"{r}-{engine}-{way}"
                    database: str | Path = (
                        folder / "db.sqlite3"
                        if engine == "sqlite"
                        else server.fresh_database(migrated=False)
                    )
                    seconds = asyncio.run(
                        run(database, folder / "data", way, args.notes, args.tasks, args.dim)
                    )
                    results[engine, way].append(seconds)

    print(
        f"{args.notes} notes of {args.dim}-wide vectors from {args.tasks} tasks at once, "
        f"median of {args.runs} runs"
    )
    print(f"{'engine':<9} {'way':<9} {'median s':>9} {'ms/note':>8} {'vs baseline':>12}")
    for engine in engines:
        reference = statistics.median(results[engine, "baseline"])
        for way in WAYS:
            median = statistics.median(results[engine, way])
            print(
                f"{engine:<9} {way:<9} {median:>9.3f} {1000 * median / args.notes:>8.2f} "
                f"{median / reference:>11.2f}x"
            )


if __name__ == "__main__":
    main()

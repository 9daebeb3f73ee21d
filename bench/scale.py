"""Scale-out: a Telegram burst through 1, 2 and 4 `voicemood worker` processes vs the in-process worker.

    python bench/scale.py [--runs 3] [--burst 200] [--users 50] [--workers 1,2,4] [--model compact]
                          [--storage postgres|sqlite]
    python bench/scale.py --simulate [...]     # 1 to 32 workers of fixed service time: see
                                               # bench/scale_simulate.py

Each configuration answers the same burst (N 5 s OGG/Opus voice notes from M users at once)
through the real PTB Application polling the fake Bot API on loopback and the real service, over
PostgreSQL (a cluster of the bench's own from Debian's binaries, files fsynced, or the server
VOICEMOOD_DATABASE_URL names; a fresh database per configuration) or, with `--storage sqlite`, a
SQLite file. "in-process" is the default's inference (the model inside `voicemood run`; with
`--storage sqlite` that is exactly the single-process default); "N workers" sets VOICEMOOD_REDIS_URL: a
redis-server of the bench's own on 127.0.0.1 (Debian's package, no persistence) and N real
`voicemood worker` processes loading `--model` (a spec as VOICEMOOD_MODEL takes). Reported per
configuration: the median burst wall time over the runs (until the last answer), answers and
"busy" replies, and the ratio of its median to the in-process median measured in the same run of
this script, with each note's time to its answer (p50, p95, from the burst's start). Then the
per-note cost of the shared servers, which bounds what N machines can add: a note's round trip
through Redis (XADD of 5 s of PCM, XREADGROUP, reply, XACK) and a note's writes to the database
(person, chat, note), each the median of 200 one at a time. On a machine with few cores, more
worker processes share the same cores: expect no gain there.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram_latency import Run, _burst, _voice_notes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram import FakeTelegram, make_user  # noqa: E402


def main() -> None:
    if "--simulate" in sys.argv:
        from scale_simulate import simulate

        simulate(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to compare")
    parser.add_argument("--model", default="compact", help="VOICEMOOD_MODEL for every config")
    parser.add_argument("--storage", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.storage == "sqlite":
        asyncio.run(_bench(args, None))
        return
    from storage_postgres import postgres

    with postgres() as server:
        server.make_template()  # each configuration's fresh database is cloned from it
        asyncio.run(_bench(args, server))


async def _bench(args: argparse.Namespace, server: Any) -> None:
    """`server`: a PostgresServer handing out fresh databases, or None for SQLite files."""
    configs: list[int] = [0, *(int(n) for n in args.workers.split(","))]  # 0: in process
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        notes, source = _voice_notes(folder, count=10)
        users = [make_user(7000 + i, f"User {i}") for i in range(args.users)]
        print(f"model: {args.model}; burst: {args.burst} notes of 5 s ({source}); {args.storage}")
        print(f"from {args.users} users; CPUs: {os.cpu_count()}; runs: {args.runs}")
        results: dict[int, list[Run]] = {n: [] for n in configs}
        for run in range(args.runs):
            # Configurations alternate within a run, so machine load hits all alike.
            for workers in configs:
                database = server.fresh_database() if server is not None else None
                where = folder / f"r{run}w{workers}"
                async with _service(args.model, workers, where, database) as service:
                    results[workers].append(await _one_burst(service, users, notes, args.burst))
            print(f"  run {run + 1}/{args.runs} done", file=sys.stderr)
        _report(results)
        await _per_note_costs(folder, server, notes[0])


async def _one_burst(service: Any, users: list[Any], notes: list[bytes], count: int) -> Run:
    from bots.i18n import t
    from bots.telegram.app import start_telegram

    async with FakeTelegram() as fake:
        bot = await start_telegram(
            service,
            fake.token,
            api_base=f"{fake.base_url}/bot",
            file_base=f"{fake.base_file_url}/file/bot",
            poll_timeout_s=10,
        )
        try:
            result = Run()
            await _burst(fake, users, notes, count, t("en", "error.busy"), result)
            return result
        finally:
            await bot.stop()


@asynccontextmanager
async def _service(
    model: str, workers: int, folder: Path, database: str | None
) -> AsyncIterator[Any]:
    """The service over `database` (None: a fresh SQLite file), its inference in process (0) or
    in `workers` processes."""
    from inference.analysis import AnalysisConfig, Analyzer
    from inference.labels import CANONICAL_LABELS
    from inference.models import load_model
    from inference.remote.client import RemoteConfig, RemoteWorker
    from inference.worker import InferenceWorker, WorkerConfig
    from storage.store import Store
    from tests.remote_workers import start_worker
    from tests.servers_redis import RedisServer
    from voicemood.wiring import build_service

    folder.mkdir(parents=True)  # noqa: ASYNC240 - once per configuration, before timing
    store = await Store.open(
        database or folder / "db.sqlite3", folder / "data", labels=CANONICAL_LABELS
    )
    try:
        if workers == 0:
            async with InferenceWorker(load_model(model), WorkerConfig()) as local:
                yield build_service(Analyzer(local, AnalysisConfig()), store)
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit(
                "bench/scale.py needs Debian's redis-server (apt-get install redis-server)"
            )
        redis = RedisServer(binary, folder)
        redis.start()
        started = []
        try:
            for _ in range(workers):
                started.append(await start_worker(folder, redis.url, "bench", Path(model)))
            async with RemoteWorker(RemoteConfig(url=redis.url, prefix="bench")) as remote:
                yield build_service(Analyzer(remote, AnalysisConfig()), store)
        finally:
            for worker in started:
                await worker.stop()
            redis.stop()
    finally:
        await store.close()


def _report(results: dict[int, list[Run]]) -> None:
    base = statistics.median(r.burst_wall_s for r in results[0])
    print()
    print(
        f"{'inference':<14} {'burst wall (median, min-max)':<30} {'answered':>9} {'busy':>6} "
        f"{'lost':>5} {'p50 s':>6} {'p95 s':>6} {'vs in-process':>14}"
    )
    for workers, runs in results.items():
        walls = [r.burst_wall_s for r in runs]
        wall = statistics.median(walls)
        name = "in-process" if workers == 0 else f"{workers} workers"
        print(
            f"{name:<14} {wall:8.2f} s ({min(walls):.2f}-{max(walls):.2f}){'':<9} "
            f"{statistics.median(r.burst_answered for r in runs):>9.0f} "
            f"{statistics.median(r.burst_busy for r in runs):>6.0f} "
            f"{statistics.median(r.burst_lost for r in runs):>5.0f} "
            f"{statistics.median(_quantile(r.burst_latency_s, 0.5) for r in runs):>6.2f} "
            f"{statistics.median(_quantile(r.burst_latency_s, 0.95) for r in runs):>6.2f} "
            f"{wall / base if base else float('nan'):>13.2f}x"
        )


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _per_note_costs(folder: Path, server: Any, ogg: bytes) -> None:
    """What one note costs Redis and the database, one at a time (medians of 200)."""
    import time

    import numpy as np

    from inference.labels import CANONICAL_LABELS
    from storage.store import Store
    from tests.servers_redis import RedisServer

    binary = shutil.which("redis-server")
    if binary is None:
        return
    redis_dir = folder / "costs-redis"
    redis_dir.mkdir()  # noqa: ASYNC240 - once, before timing
    redis = RedisServer(binary, redis_dir)
    redis.start()
    try:
        from redis.asyncio import Redis

        client = Redis.from_url(redis.url)
        pcm = np.zeros(5 * 16_000, np.float32).tobytes()  # 5 s, as the bot sends it
        await client.xgroup_create("costs", "g", id="0", mkstream=True)
        trips = []
        for i in range(200):
            started = time.perf_counter()
            await client.xadd("costs", {"pcm": pcm})
            entries = await client.xreadgroup("g", "w", {"costs": ">"}, count=1)
            entry_id = entries[0][1][0][0]
            await client.xadd("costs-replies", {"probs": b"x" * 64, "n": str(i)})
            await client.xack("costs", "g", entry_id)
            await client.xdel("costs", entry_id)
            trips.append(time.perf_counter() - started)
        await client.aclose()
    finally:
        redis.stop()
    database = server.fresh_database() if server is not None else folder / "costs.sqlite3"
    writes = []
    async with await Store.open(database, folder / "costs-data", labels=CANONICAL_LABELS) as store:
        for i in range(200):
            started = time.perf_counter()
            person = await store.people.ensure_person("telegram", 9_000_000 + i)
            chat = await store.people.ensure_chat(
                "telegram", 9_000_000 + i, "private", owner=person
            )
            await store.notes.add(
                person,
                chat,
                message_id=str(i),
                label="calm",
                confidence=0.6,
                probabilities={"calm": 0.6, "neutral": 0.4},
                duration_s=5.0,
                model="bench",
            )
            writes.append(time.perf_counter() - started)
    redis_ms = statistics.median(trips) * 1000
    store_ms = statistics.median(writes) * 1000
    print(
        f"\nper note, one at a time: Redis round trip {redis_ms:.2f} ms "
        f"(bounds one Redis at ~{1000 / redis_ms:.0f} notes/s on one connection); "
        f"database writes {store_ms:.2f} ms (~{1000 / store_ms:.0f} notes/s through one store)."
    )


if __name__ == "__main__":
    main()

"""`bench/scale.py --simulate`: how throughput grows with 1 to 32 workers when workers cost no CPU.

    python bench/scale.py --simulate [--workers 1,2,4,8,16,32] [--service-ms MS] [--runs 3]
                          [--notes-per-worker 100] [--workers-per-replica 4] [--note-s 5]
                          [--write-lock rows|single] [--ceiling-notes 2400] [--ceiling-replicas 4]
                          [--cold]

On two cores, real workers share the cores, so more of them cannot show what more machines buy.
Here each worker process is the real `voicemood worker` loop (inference.remote.serve.StreamServer
around an ordinary InferenceWorker) over a model of fixed service time: it sleeps `--service-ms`
per `--note-s` of audio instead of computing, so N workers are N machines' worth of model. The
default service time is measured once, here, from the default Whisper head on one 5 s note (median
of 7 after a warm-up). Everything else is real and shared: one redis-server (Debian's, loopback,
no persistence) carrying every note's 16 kHz float32 PCM, and one PostgreSQL cluster (Debian's,
fsync on, commits not waited for, as bench/storage_postgres.py) behind the project's Store.

Bot replicas are processes too (one per `--workers-per-replica` workers, at least one), each with
its own Store on the database and its own RemoteWorker, doing per note what `voicemood run` does
for a private voice note (bots.core.notes), less decoding: the person, the chat, consent, the
baseline switch and the person's words in one read (store.arrivals; writes too on a newcomer's
first note), send the note through Redis and wait for its answer (`hear`), store the note and link
the reply message: one read and two write transactions once a person is known (on PostgreSQL one
trip each: voicemood_store_note, and the link taking the lock in its own WHERE). A burst of
`--notes-per-worker` x N notes is released at once; each replica keeps at most its share of
(notes a worker takes at once + 2) x N notes in flight, so every worker always has work. Before
it, untimed, each replica sends one note from each of the 50 people it plays (more rounds when
its burst keeps more in flight), all at once, so the burst measures a replica that has been
running (its pools open, its people known), not a cold start: on PostgreSQL a new connection's
first statements and a newcomer's first note cost several times a known person's, and 1,600
notes carried them all (`--cold` skips the warm-up; 2026-12-07, 16 workers at 35.4 ms a note on
a quiet machine, two alternating pairs: 0.71 and 0.80 cold, 0.89 and 0.89 warm).
Throughput is notes answered and stored over the burst's wall time (first send to last
store); a note's latency runs from its send to its reply being linked. Efficiency is throughput
over N x (1 / service time): 1.0 is linear.

Besides the table: what a note costs each shared server (Redis's own CPU per note from INFO,
PostgreSQL's from its processes' CPU times), the ceiling that puts on one server, and the write
lock's: a note's write transactions one at a time, whose sum is how long a note held the single
lock (storage.db), so 1 / that is the most notes per second it let through. Then storage alone
(`--ceiling-notes` notes from `--ceiling-replicas` processes, no Redis, no model) with every
write under the one lock, as before row-safe writes, against the store as it is, alternating in
each run. `--write-lock single` runs the table itself the old way. The columns "CPU" (the share
of the machine's cores the whole bench used during the burst) and "lock q" (sessions waiting for
the write lock, sampled every 100 ms) tell the machine's limit from the lock's. The last line is a
JSON object with `efficiency_16` and `efficiency_32` (null if not measured).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
# The project first: bench/storage.py would shadow the `storage` package; bench's own modules last.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != _HERE), str(_HERE)]

SR = 16_000
PROBS = np.array([0.4, 0.3, 0.2, 0.1], np.float32)
LABELS = ("neutral", "calm", "sad", "happy")
WARM_UP_IDS = 1_000_000_000  # message ids of a replica's untimed warm-up notes, past the burst's


class SleepModel:
    """A model of fixed service time: sleeps `service_s` per `note_s` of audio, uses no CPU."""

    name = "simulated"
    labels = LABELS

    def __init__(self, service_s: float, note_s: float) -> None:
        self.per_sample = service_s / (note_s * SR)

    def predict(self, batch: list[np.ndarray]) -> np.ndarray:
        time.sleep(self.per_sample * sum(len(w) for w in batch))
        return np.tile(PROBS, (len(batch), 1))


# --- the parent: start servers, workers and replicas; report -------------------------------------


@contextlib.contextmanager
def loopback_servers(prefix: str) -> Iterator[tuple[Any, str, Path]]:
    """A PostgreSQL cluster of the bench's own (files fsynced, a template database made) and a
    redis-server, both from Debian's binaries on loopback, with a scratch folder; all stopped
    and removed at the end. Yields (the PostgresServer, Redis's URL, the folder)."""
    from tests.servers_postgres import Cluster, PostgresServer, find_binaries
    from tests.servers_redis import RedisServer

    cluster = Cluster(find_binaries(), crash_safe=True)
    with cluster as url, tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = PostgresServer(url, cluster.data)
        server.make_template()
        redis = RedisServer("/usr/bin/redis-server", Path(tmp))
        redis.start()
        try:
            yield server, redis.url, Path(tmp)
        finally:
            redis.stop()


def simulate(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="bench/scale.py --simulate")
    parser.add_argument("--simulate", action="store_true")
    parser.add_argument("--workers", default="1,2,4,8,16,32")
    parser.add_argument("--service-ms", type=float, default=None, help="unset: measured")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--notes-per-worker", type=int, default=100)
    parser.add_argument("--workers-per-replica", type=int, default=4)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no untimed warm-up: the burst also pays for opening pools and first-time senders",
    )
    parser.add_argument("--note-s", type=float, default=5.0)
    parser.add_argument(
        "--write-lock",
        choices=("rows", "single"),
        default="rows",
        help="the store's PostgreSQL writes as they are (rows) or all under one lock (single)",
    )
    parser.add_argument("--ceiling-notes", type=int, default=2400, help="0: skip that part")
    parser.add_argument("--ceiling-replicas", type=int, default=4)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    service_ms = args.service_ms
    measured = service_ms is None
    if service_ms is None:
        service_ms = measure_service_ms(args.note_s)
    with loopback_servers("bench-simulate-") as (server, redis_url, tmp):
        results = _all_configs(args, counts, service_ms, server, redis_url, tmp)
        lock_ms = asyncio.run(_lock_hold_ms(server.fresh_database(), tmp / "lock"))
        ceiling = _storage_ceiling(args, server, tmp) if args.ceiling_notes else {}
    how = "measured: default Whisper head, one note" if measured else "given"
    print(
        f"\nservice time {service_ms:.1f} ms per {args.note_s:g} s note ({how}); "
        f"CPUs {os.cpu_count()}; medians of {args.runs} runs"
    )
    _report(results, service_ms, lock_ms, ceiling)


def _storage_ceiling(
    args: argparse.Namespace, server: Any, tmp: Path
) -> dict[str, list[dict[str, Any]]]:
    """Storage alone, as fast as it goes: `--ceiling-replicas` bot processes, 16 notes in flight
    each, every note's storage steps and nothing else (no Redis, no model), under the one write
    lock and with row-safe writes, alternating within each run (the same machine load)."""
    found: dict[str, list[dict[str, Any]]] = {"single": [], "rows": []}
    for run in range(args.runs):
        for lock in found:
            found[lock].append(
                _one_burst(
                    args,
                    0,
                    None,
                    "",
                    server.fresh_database(),
                    server.data_dir,
                    [],
                    tmp / f"ceiling-{lock}-{run}",
                    lock=lock,
                    replicas=args.ceiling_replicas,
                    total=args.ceiling_notes,
                    in_flight=16,
                )  # fmt: skip
            )
        print(f"  storage ceiling, run {run + 1}/{args.runs} done", file=sys.stderr)
    return found


def measure_service_ms(note_s: float) -> float:
    """The default model's time for one note of `note_s` seconds (median of 7, warm)."""
    from inference.models import load_model

    model = load_model(None)
    n = int(note_s * SR)
    rng = np.random.default_rng(0)
    t = np.arange(n) / SR
    voice = 0.1 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    wave = (voice + 0.01 * rng.standard_normal(n)).astype(np.float32)
    model.predict([wave])
    times = []
    for _ in range(7):
        started = time.perf_counter()
        model.predict([wave])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


@dataclass
class Config:
    workers: int
    runs: list[dict[str, Any]] = field(default_factory=list)


def _all_configs(
    args: argparse.Namespace, counts: list[int], service_ms: float, server: Any, url: str, tmp: Path
) -> list[Config]:
    results = []
    for n in counts:
        config = Config(n)
        prefix = f"sim{n}"
        workers = _start_workers(n, url, prefix, service_ms, args.note_s, tmp)
        try:
            for run in range(args.runs):
                database = server.fresh_database()
                folder = tmp / f"{n}-{run}"
                pids = [w.pid for w in workers]
                config.runs.append(
                    _one_burst(
                        args,
                        n,
                        url,
                        prefix,
                        database,
                        server.data_dir,
                        pids,
                        folder,
                        lock=args.write_lock,
                    )  # fmt: skip
                )
                print(f"  {n} workers, run {run + 1}/{args.runs} done", file=sys.stderr)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(60)
        results.append(config)
    return results


def _child(*argv: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *argv], text=True, **kwargs
    )


def _start_workers(
    n: int, url: str, prefix: str, service_ms: float, note_s: float, tmp: Path
) -> list[subprocess.Popen[str]]:
    import redis

    workers = [
        _child(
            "worker", url, prefix, str(service_ms / 1000), str(note_s), stdout=subprocess.DEVNULL
        )
        for _ in range(n)
    ]
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 120
    while len(list(client.scan_iter(match=f"{prefix}:worker:*"))) < n:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise SystemExit(f"only some of {n} simulated workers started")
        time.sleep(0.2)
    client.close()
    return workers


def _one_burst(
    args: argparse.Namespace,
    n: int,
    url: str | None,
    prefix: str,
    database: str,
    server_dir: Path,
    worker_pids: list[int],
    folder: Path,
    *,
    lock: str = "rows",
    replicas: int | None = None,
    total: int | None = None,
    in_flight: int | None = None,
) -> dict[str, Any]:
    """One burst; with `url` None, storage alone (no Redis, no workers): `replicas`, `total`
    notes and `in_flight` per replica given."""
    import redis

    replicas = replicas or max(1, math.ceil(n / args.workers_per_replica))
    total = total or args.notes_per_worker * n
    in_flight = in_flight or math.ceil((_notes_at_once() + 2) * n / replicas)
    children = []
    for r in range(replicas):
        share = total // replicas + (1 if r < total % replicas else 0)
        spec = {
            "lock": lock,
            "redis": url,
            "prefix": prefix,
            "database": database,
            "data": str(folder / f"data{r}"),
            "replica": r,
            "notes": share,
            "in_flight": in_flight,
            "note_s": args.note_s,
            "warm": not args.cold,
        }
        children.append(
            _child("replica", json.dumps(spec), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        )
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("a replica failed to start")
    client = redis.Redis.from_url(url) if url is not None else None
    redis_cpu = _redis_cpu(client)
    pg_cpu = _postgres_cpu(server_dir)
    worker_cpu = _processes_cpu(worker_pids)
    sampler = LockSampler(database)
    sampler.start()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = []
    for child in children:
        out, _ = child.communicate(timeout=1800)
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    waiting = sampler.stop()
    redis_cpu = _redis_cpu(client) - redis_cpu
    pg_cpu = _postgres_cpu(server_dir) - pg_cpu - sampler.cpu_s
    worker_cpu = _processes_cpu(worker_pids) - worker_cpu
    if client is not None:
        client.close()
    start = min(o["start"] for o in outputs)
    end = max(o["end"] for o in outputs)
    latencies = [x for o in outputs for x in o["latencies"]]
    done = len(latencies)
    return {
        "wall_s": end - start,
        "done": done,
        "failed": sum(o["failed"] for o in outputs),
        "throughput": done / (end - start),
        "p50": _quantile(latencies, 0.5),
        "p95": _quantile(latencies, 0.95),
        "redis_ms": 1000 * redis_cpu / max(done, 1),
        "pg_ms": 1000 * pg_cpu / max(done, 1),
        "bot_ms": 1000 * sum(o["cpu_s"] for o in outputs) / max(done, 1),
        "worker_ms": 1000 * worker_cpu / max(done, 1),
        # The share of the machine's cores the whole bench kept busy during the burst.
        "cpu_share": (redis_cpu + pg_cpu + worker_cpu + sum(o["cpu_s"] for o in outputs))
        / ((end - start) * (os.cpu_count() or 1)),
        "lock_waiting": waiting,
        "replicas": replicas,
        "load": os.getloadavg()[0],
    }


def _notes_at_once() -> int:
    from voicemood.settings import Settings

    return int(Settings.model_fields["worker_notes"].default)


def _redis_cpu(client: Any) -> float:
    if client is None:
        return 0.0
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _postgres_cpu(data_dir: Path) -> float:
    """CPU seconds of the bench's PostgreSQL cluster: its postmaster, the backends it has reaped
    (the postmaster's children's times) and the processes still running under it."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # After the name: state, ppid, ...; utime, stime, cutime, cstime are fields 14-17.
        fields = text[text.rindex(")") + 2 :].split()
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(x) for x in fields[11:15])
        elif ppid == postmaster:
            total += sum(int(x) for x in fields[11:13])
    return total / tick


def _processes_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes `pids` have used so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            text = Path(f"/proc/{pid}/stat").read_text()
            total += sum(int(x) for x in text[text.rindex(")") + 2 :].split()[11:13])
    return total / os.sysconf("SC_CLK_TCK")


class LockSampler:
    """How many PostgreSQL sessions wait for the store's write lock (an advisory lock), sampled
    every 100 ms in a thread of its own while a burst runs; `stop` returns the mean.

    Its own session's CPU (`cpu_s`) is the bench's, not the notes': taken out of PostgreSQL's
    per-note figure. (Sampled every 20 ms, it was 0.2 ms of PostgreSQL's CPU per note.)
    """

    def __init__(self, database: str) -> None:
        self.database = database
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._samples: list[int] = []
        self._thread = threading.Thread(target=lambda: asyncio.run(self._sample()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(10)
        return statistics.fmean(self._samples) if self._samples else float("nan")

    async def _sample(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.database)
        pid = int(await conn.fetchval("SELECT pg_backend_pid()"))
        try:
            while not self._stop.is_set():
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
                self._samples.append(int(waiting))
                await asyncio.sleep(0.1)
        finally:
            self.cpu_s = _processes_cpu([pid])
            await conn.close()


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _lock_hold_ms(database: str, data: Path) -> float:
    """A known person's note stored and its reply linked, one at a time (median of 200): the
    two write transactions a note holds the write lock for."""
    from storage.store import Store

    times = []
    async with await Store.open(database, data) as store:
        person = await store.people.ensure_person("telegram", 9_000_000)
        chat = await store.people.ensure_chat("telegram", 9_000_000, "private", owner=person)
        for i in range(200):
            started = time.perf_counter()
            stored = await store.notes.add(
                person, chat, message_id=i, duration_s=5.0, model="simulated", label="calm",
                confidence=0.6, probabilities={"neutral": 0.4, "calm": 0.6},
            )  # fmt: skip
            await store.notes.set_reply_message(stored.id, 1_000_000 + i)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _report(
    results: list[Config],
    service_ms: float,
    lock_ms: float,
    ceiling: dict[str, list[dict[str, Any]]],
) -> None:
    print(
        f"{'workers':>7} {'replicas':>8} {'notes':>6} {'wall s':>7} {'notes/s':>8} "
        f"{'linear':>7} {'efficiency':>10} {'p50 s':>6} {'p95 s':>6} {'Redis ms':>8} "
        f"{'PG ms':>6} {'bot ms':>6} {'wrk ms':>6} {'CPU':>5} {'lock q':>6} {'load':>5}"
    )
    efficiency: dict[int, float] = {}
    for config in results:
        runs = config.runs
        linear = config.workers * 1000 / service_ms
        efficiency[config.workers] = _med(runs, "throughput") / linear
        print(
            f"{config.workers:>7} {runs[0]['replicas']:>8} {_med(runs, 'done'):>6.0f} "
            f"{_med(runs, 'wall_s'):>7.2f} {_med(runs, 'throughput'):>8.1f} {linear:>7.1f} "
            f"{efficiency[config.workers]:>10.2f} {_med(runs, 'p50'):>6.2f} "
            f"{_med(runs, 'p95'):>6.2f} {_med(runs, 'redis_ms'):>8.2f} "
            f"{_med(runs, 'pg_ms'):>6.2f} {_med(runs, 'bot_ms'):>6.2f} "
            f"{_med(runs, 'worker_ms'):>6.2f} {_med(runs, 'cpu_share'):>5.0%} "
            f"{_med(runs, 'lock_waiting'):>6.1f} {_med(runs, 'load'):>5.1f}"
        )
    costs = [r for c in results for r in c.runs]
    if costs:
        parts = {k: _med(costs, k) for k in ("redis_ms", "pg_ms", "bot_ms", "worker_ms")}
        every = sum(parts.values())
        print(
            f"\nper note (CPU, medians over every run): Redis {parts['redis_ms']:.2f} ms -> one "
            f"Redis (one thread) tops out near {1000 / parts['redis_ms']:.0f} notes/s; PostgreSQL "
            f"{parts['pg_ms']:.2f} ms -> {1000 / parts['pg_ms']:.0f} notes/s per server core; a bot "
            f"replica {parts['bot_ms']:.2f} ms -> {1000 / parts['bot_ms']:.0f} notes/s per core; a "
            f"simulated worker's own loop {parts['worker_ms']:.2f} ms. All together {every:.1f} ms "
            f"of CPU a note: this machine's {os.cpu_count()} cores carry at most "
            f"{1000 * (os.cpu_count() or 1) / every:.0f} notes/s."
        )
    print(
        f"one write lock: a note's two write transactions (the note, its reply link) hold it "
        f"{lock_ms:.2f} ms one at a time -> at most {1000 / lock_ms:.0f} notes/s through it, "
        f"{1000 / lock_ms * service_ms / 1000:.0f} workers' worth at {service_ms:.0f} ms a note."
    )
    rates = {}
    if ceiling:
        print("\nstorage alone (every note's storage steps, no Redis, no model), medians:")
        print(f"{'writes':<22} {'notes/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'lock q':>6} {'CPU':>5}")
        for lock, runs in ceiling.items():
            rates[lock] = _med(runs, "throughput")
            name = "one lock (before)" if lock == "single" else "row-safe (now)"
            print(
                f"{name:<22} {rates[lock]:>8.0f} {1000 * _med(runs, 'p50'):>7.1f} "
                f"{1000 * _med(runs, 'p95'):>7.1f} {_med(runs, 'lock_waiting'):>6.1f} "
                f"{_med(runs, 'cpu_share'):>5.0%}"
            )
        print(f"row-safe / one lock: {rates['rows'] / rates['single']:.2f}x")
    print(
        json.dumps(
            {
                "efficiency_16": round(efficiency[16], 3) if 16 in efficiency else None,
                "efficiency_32": round(efficiency[32], 3) if 32 in efficiency else None,
                "service_ms": round(service_ms, 1),
                "efficiency": {str(k): round(v, 3) for k, v in efficiency.items()},
                "storage_notes_per_s": {k: round(v) for k, v in rates.items()},
            }
        )
    )


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


# --- the children: a simulated worker, a bot replica ---------------------------------------------


async def _worker(url: str, prefix: str, service_s: float, note_s: float) -> None:
    from redis.asyncio import Redis

    from inference.remote.serve import ServeConfig, StreamServer
    from inference.worker import InferenceWorker, WorkerConfig

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    redis = Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)
    worker = InferenceWorker(SleepModel(service_s, note_s), WorkerConfig(max_queue=100_000))
    config = ServeConfig(prefix=prefix, notes_at_once=_notes_at_once())
    try:
        async with worker:
            await StreamServer(redis, worker, config).serve(stop)
    finally:
        await redis.aclose()


async def _replica(spec: dict[str, Any]) -> None:
    from inference.labels import CANONICAL_LABELS
    from inference.remote.client import RemoteConfig, RemoteWorker
    from storage.store import Store

    if spec["lock"] == "single":
        _single_write_lock()
    store = await Store.open(spec["database"], spec["data"], labels=CANONICAL_LABELS)
    remote = None
    if spec["redis"] is not None:
        remote = RemoteWorker(
            RemoteConfig(
                url=spec["redis"], prefix=spec["prefix"], max_backlog=100_000, request_timeout_s=600
            )
        )
        await remote.start()
    rng = np.random.default_rng(spec["replica"])
    pcm = (0.05 * rng.standard_normal(int(spec["note_s"] * SR))).astype(np.float32)
    users = [10_000_000 * (spec["replica"] + 1) + u for u in range(50)]
    gate = asyncio.Semaphore(spec["in_flight"])
    latencies: list[float] = []
    failed = 0

    async def note(i: int) -> None:
        nonlocal failed
        async with gate:
            started = time.time()
            try:
                heard = await _bot_note(store, remote, users[i % len(users)], i, pcm)
            except Exception as error:
                failed += 1
                print(f"note {i}: {error!r}", file=sys.stderr)
                return
            if heard:
                latencies.append(time.time() - started)

    # Warm, untimed: one note from each person this replica plays (so the burst's are known
    # people's), as many at once as the burst keeps in flight (so the pools it will use are
    # open). The burst then measures a replica that has been running, not a cold start.
    if spec["warm"]:
        people = users * math.ceil(spec["in_flight"] / len(users))
        await asyncio.gather(
            *(_bot_note(store, remote, user, WARM_UP_IDS + k, pcm) for k, user in enumerate(people))
        )
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    cpu = _own_cpu()
    start = time.time()
    await asyncio.gather(*(note(i) for i in range(spec["notes"])))
    end = time.time()
    cpu = _own_cpu() - cpu
    if remote is not None:
        await remote.close()
    await store.close()
    out = {"start": start, "end": end, "latencies": latencies, "failed": failed, "cpu_s": cpu}
    print(json.dumps(out), flush=True)


async def _bot_note(store: Any, remote: Any, user: int, i: int, pcm: np.ndarray) -> bool:
    """What bots.core.notes does for a private voice note, less decoding and the platform;
    with no `remote` (the storage ceiling), the model's answer is a fixed one."""
    if remote is None:
        probs = dict(zip(LABELS, PROBS.tolist(), strict=True))
    else:
        heard = await remote.hear([pcm])
        probs = {k: float(p) for k, p in zip(heard.model.labels, heard.rows[0], strict=True)}
    await _store_note(store, user, i, probs)
    return True


async def _store_note(store: Any, user: int, i: int, probs: dict[str, float]) -> None:
    arrival = await store.arrivals.arrive(
        "telegram", user, user, "private", display_name=f"User {user}"
    )
    person, chat = arrival.person, arrival.chat
    label = max(probs, key=lambda k: probs[k])
    stored = await store.notes.add(
        person,
        chat,
        message_id=i,
        duration_s=5.0,
        model="simulated",
        label=label,
        confidence=probs[label],
        probabilities=probs,
    )
    await store.notes.set_reply_message(stored.id, 1_000_000 + i)


def _single_write_lock() -> None:
    """The store as it was before row-safe writes: every write takes the one lock, exclusive
    (the baseline the storage ceiling is measured against, in the same run)."""
    from storage.backends.postgres import PostgresBackend
    from storage.db import Db

    transaction = PostgresBackend.transaction

    def exclusive(self: PostgresBackend, *, row_safe: bool = False) -> Any:
        return transaction(self, row_safe=False)

    async def alone(self: PostgresBackend, sql: str, params: Any = ()) -> int:
        async with exclusive(self) as db:
            return await db.execute(sql, params)

    PostgresBackend.transaction = exclusive  # type: ignore[method-assign]
    PostgresBackend.execute_alone = alone  # type: ignore[method-assign]
    Db.holding = lambda self, *, row_safe=False: self.lock  # type: ignore[method-assign]


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "worker":
        asyncio.run(_worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])))
    elif role == "replica":
        asyncio.run(_replica(json.loads(sys.argv[2])))
    else:
        raise SystemExit(f"unknown role {role!r}")

"""What a note's trips cost a bot replica's own CPU, through the clients as they were and as they are.

    python bench/scale_clients.py [--notes 2000] [--in-flight 40] [--runs 5]

`bench/scale.py --simulate` measures CPU per note with everything sharing two cores, so other work
moves its figures by as much as a client change does. Here one process times only its own CPU
(process time), the old and the new way alternating, run after run, on the same servers:
- PostgreSQL: a known person's note as the store sends it (its arrival read, the note stored, the
  reply linked: bench/scale_simulate.py's `_store_note`), `--in-flight` at once, over asyncpg's
  own Pool (as before: a task and a timer per release) and over the backend's ConnectionPool.
- Redis, a worker's trips (one small command; a batch's four replies in one pipeline) over
  redis-py's connection, whose sends run inside asyncio.wait_for when socket_timeout is set (a
  Task and a timer per send on Python 3.11), and over the same connection sending without it
  (its answers still read under the timeout). Tried for `voicemood worker` and left out: no
  lower in most runs (docs/scale.md).
Needs Debian's postgresql and redis-server (started here, on loopback, as the tests start them).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
# The project first: bench/storage.py would shadow the `storage` package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != _HERE), str(_HERE)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from scale_simulate import loopback_servers

    with loopback_servers("bench-clients-") as (server, redis_url, tmp):
        rows = asyncio.run(_measure(args, server.fresh_database(), redis_url, tmp))
    print(
        f"\nthis process's CPU, µs per note (PostgreSQL) or per trip (Redis); medians of "
        f"{args.runs} alternating runs"
    )
    print(f"{'trips':<34}{'before':>9}{'after':>9}{'after/before':>14}  per run (before | after)")
    for name, before, after in rows:
        b, a = statistics.median(before), statistics.median(after)
        each = " ".join(f"{x:.0f}" for x in before) + " | " + " ".join(f"{x:.0f}" for x in after)
        print(f"{name:<34}{b:9.0f}{a:9.0f}{a / b:14.2f}  {each}")


async def _measure(
    args: argparse.Namespace, database: str, redis_url: str, tmp: Path
) -> list[tuple[str, list[float], list[float]]]:
    old_store, new_store = await _stores(database, tmp)
    old_redis, new_redis = _redis_clients(redis_url)
    reply = np.full((1, 8), 0.125, np.float32).tobytes()
    try:
        pg = await _alternate(args, lambda i: _note(old_store, i), lambda i: _note(new_store, i))
        rd = await _alternate(
            args, lambda i: _replies(old_redis, reply, i), lambda i: _replies(new_redis, reply, i)
        )
        small = await _alternate(
            args, lambda i: old_redis.get("bench:small"), lambda i: new_redis.get("bench:small")
        )
    finally:
        await old_store.close()
        await new_store.close()
        await old_redis.aclose()
        await new_redis.aclose()
    return [
        ("PostgreSQL: a known person's note", *pg),
        ("Redis: a batch's 4 replies", *rd),
        ("Redis: one small command (GET)", *small),
    ]


async def _stores(database: str, tmp: Path) -> tuple[Any, Any]:
    import asyncpg

    from inference.labels import CANONICAL_LABELS
    from storage.backends.postgres import PostgresBackend
    from storage.db import Db
    from storage.store import Store

    async def nothing(_conn: asyncpg.Connection) -> None:
        """As the backend's pool was built: no reset query on release."""

    new = await PostgresBackend.open(database)
    pool = await asyncpg.create_pool(
        database,
        min_size=1,
        max_size=10,
        server_settings={"application_name": "voicemood"},
        reset=nothing,
    )
    old = PostgresBackend(pool)  # type: ignore[arg-type]  # asyncpg's Pool, as before
    labels = frozenset(CANONICAL_LABELS)
    return Store(Db(old, tmp / "old", labels)), Store(Db(new, tmp / "new", labels))


def _redis_clients(url: str) -> tuple[Any, Any]:
    from redis.asyncio import Connection, Redis

    class SendWithoutWaitFor(Connection):
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            if not self.is_connected:
                await self.connect_check_health(check_health=False)
            if check_health:
                await self.check_health()
            timeout, self.socket_timeout = self.socket_timeout, None
            try:
                await super().send_packed_command(command, check_health=False)
            finally:
                self.socket_timeout = timeout

    options: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 5}
    old = Redis.from_url(url, **options)
    return old, Redis.from_url(url, connection_class=SendWithoutWaitFor, **options)


async def _note(store: Any, i: int) -> None:
    from scale_simulate import _store_note

    probs = {"neutral": 0.4, "calm": 0.3, "sad": 0.2, "happy": 0.1}
    await _store_note(store, 20_000_000 + i % 50, i, probs)


async def _replies(redis: Any, rows: bytes, i: int) -> None:
    pipe = redis.pipeline(transaction=False)
    for k in range(4):
        fields = {"id": f"{i}-{k}", "status": "ok", "rows": rows}
        pipe.xadd("bench:replies", fields, maxlen=1000, approximate=True)
    await pipe.execute()


async def _alternate(
    args: argparse.Namespace,
    before: Callable[[int], Awaitable[None]],
    after: Callable[[int], Awaitable[None]],
) -> tuple[list[float], list[float]]:
    """µs of this process's CPU per call of `before` and of `after`, run by run, alternating."""
    await _run(before, 0, 200, args.in_flight)  # warm: connections open, statements prepared
    await _run(after, 0, 200, args.in_flight)
    times: tuple[list[float], list[float]] = ([], [])
    for run in range(args.runs):
        for way, each in enumerate((before, after) if run % 2 == 0 else (after, before)):
            which = way if run % 2 == 0 else 1 - way
            first = 1_000 + (2 * run + which) * args.notes
            cpu = time.process_time()
            await _run(each, first, args.notes, args.in_flight)
            times[which].append((time.process_time() - cpu) / args.notes * 1e6)
    return times


async def _run(
    each: Callable[[int], Awaitable[None]], first: int, notes: int, at_once: int
) -> None:
    gate = asyncio.Semaphore(at_once)

    async def one(i: int) -> None:
        async with gate:
            await each(i)

    await asyncio.gather(*(one(i) for i in range(first, first + notes)))


if __name__ == "__main__":
    main()

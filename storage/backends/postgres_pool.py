"""The PostgreSQL backend's connections, lent to one statement or one transaction at a time.

Not asyncpg's own Pool: it gives each connection back through `asyncio.shield` (a new Task) and
re-arms an inactivity timer on every release, and a note borrows a connection three times (its
arrival read, the note stored, the reply linked): in a bot replica under a burst those two were
about 13 % of its CPU (bench/scale.py --simulate, docs/scale.md). The store needs nothing they
buy: it leaves no session state on a connection (no SET, LISTEN, session-level lock or cursor outside a
transaction, so no reset query either), keeps its connections for the process's life, and a
statement that was interrupted is not worth waiting for. So here a connection goes back onto a
queue in one call, and one that may be mid-statement (cancelled, timed out, lost) or still in a
transaction is terminated instead, and a new one opened in its place when next needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import asyncpg

CLOSE_TIMEOUT_S = 10.0  # a graceful close of one connection at shutdown, at most


class ConnectionPool:
    """Up to `size` connections, opened when first needed (one at once) and kept."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], size: int) -> None:
        self._connect = connect
        self._size = size
        # Last in, first out, as asyncpg's: the busiest connections stay warm. None is a place
        # for a connection not opened yet (or dropped): whoever takes it opens one.
        self._free: asyncio.LifoQueue[asyncpg.Connection | None] = asyncio.LifoQueue()
        for _ in range(size):
            self._free.put_nowait(None)
        self._lent = 0
        self._all_back = asyncio.Event()
        self._closing = False

    @classmethod
    async def open(
        cls, connect: Callable[[], Awaitable[asyncpg.Connection]], size: int
    ) -> ConnectionPool:
        """A pool with its first connection open (so a wrong URL fails here, not later)."""
        pool = cls(connect, size)
        async with pool.acquire():
            pass
        return pool

    def acquire(self) -> _Lease:
        """`async with pool.acquire() as conn:` one connection, to this block alone."""
        return _Lease(self)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as conn:
            return await conn.fetch(sql, *args)

    async def close(self) -> None:
        """Wait for every lent connection to come back, then close them all."""
        self._closing = True
        if self._lent:
            self._all_back.clear()
            await self._all_back.wait()
        while not self._free.empty():
            conn = self._free.get_nowait()
            if conn is not None and not conn.is_closed():
                try:
                    await conn.close(timeout=CLOSE_TIMEOUT_S)
                except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    conn.terminate()

    async def _take(self) -> asyncpg.Connection:
        if self._closing:
            raise asyncpg.InterfaceError("the connection pool is closing")
        conn = self._free.get_nowait() if not self._free.empty() else await self._free.get()
        if conn is None or conn.is_closed():
            try:
                conn = await self._connect()
            except BaseException:
                self._free.put_nowait(None)  # the place stays free for the next one to try
                raise
        self._lent += 1
        return conn

    def _give_back(self, conn: asyncpg.Connection, clean: bool) -> None:
        """Back on the queue if it is idle and whole; else terminated, its place left free."""
        self._lent -= 1
        if clean and not conn.is_closed() and not conn.is_in_transaction():
            self._free.put_nowait(conn)
        else:
            # Terminated, not closed: it may be mid-statement, and closing would wait on it.
            conn.terminate()
            self._free.put_nowait(None)
        if self._lent == 0:
            self._all_back.set()


class _Lease:
    """One connection for one `async with` block; a block that raised anything but a server's
    own error (after which the connection is idle again) gives back a connection that may be
    mid-statement: it is terminated rather than reused."""

    __slots__ = ("_conn", "_pool")

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self._conn = await self._pool._take()
        return self._conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        clean = exc_type is None or issubclass(exc_type, asyncpg.PostgresError)
        self._pool._give_back(self._conn, clean)
        self._conn = None

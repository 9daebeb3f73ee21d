"""The default backend: one SQLite file in WAL mode, one serialised writer connection and a reader.

Every write goes through one aiosqlite connection (its own thread), one BEGIN IMMEDIATE
transaction per call; storage.db's write lock keeps concurrent tasks from interleaving inside one.
Reads use a second, query-only connection: in WAL mode it sees only committed data and never
waits for the writer. Times are REAL unix seconds in the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage import migrations
from storage.backends.base import Dialect, Row
from storage.errors import StorageFull

log = logging.getLogger(__name__)

# How a full disk or an exhausted quota shows in a file write (SQLite reports it as SQLITE_FULL).
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class SqliteTransaction:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def fetch(self, sql: str, params: Any = ()) -> list[Row]:
        return list(await self._db.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Any = ()) -> Row | None:
        records = await self.fetch(sql, params)
        return records[0] if records else None

    async def execute(self, sql: str, params: Any = ()) -> int:
        cursor = await self._db.execute(sql, params)
        return cursor.rowcount


class SqliteBackend:
    dialect: Dialect = "sqlite"

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.writer = writer
        self._reader = reader

    @classmethod
    async def open(cls, db_path: Path) -> SqliteBackend:
        await asyncio.to_thread(db_path.parent.mkdir, parents=True, exist_ok=True)
        writer = await _connect(db_path)
        reader: aiosqlite.Connection | None = None
        try:
            mode = await SqliteTransaction(writer).fetchone("PRAGMA journal_mode = WAL")
            if mode is None or str(mode[0]).lower() != "wal":
                raise RuntimeError(f"{db_path} cannot use WAL mode (journal_mode={mode})")
            # NORMAL is durable across a crashed process in WAL mode; only power loss can drop
            # the last commits, never corrupt the file.
            await writer.execute("PRAGMA synchronous = NORMAL")
            # Deleted rows are overwritten with zeros, so "forget me" leaves no bytes behind.
            await writer.execute("PRAGMA secure_delete = ON")
            await migrations.migrate(writer)
            reader = await _connect(db_path)
            await reader.execute("PRAGMA query_only = ON")
        except BaseException:
            if reader is not None:
                await reader.close()
            await writer.close()
            raise
        return cls(writer, reader)

    async def close(self) -> None:
        await self._reader.close()
        with contextlib.suppress(sqlite3.Error):
            await self.writer.execute("PRAGMA optimize")
        await self.writer.close()

    @asynccontextmanager
    async def transaction(self, *, row_safe: bool = False) -> AsyncIterator[SqliteTransaction]:
        """BEGIN IMMEDIATE ... COMMIT on the writer; the caller holds storage.db's write lock.

        SQLite has one writer, so `row_safe` transactions run one at a time like any other.

        A full disk, met by SQLite or by an audio file written inside, raises StorageFull.
        """
        db = self.writer
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield SqliteTransaction(db)
        except BaseException as error:
            # After a cancellation the COMMIT may already be queued; then there is nothing to undo.
            with contextlib.suppress(sqlite3.OperationalError):
                await db.execute("ROLLBACK")
            _raise_if_full(error)
            raise
        try:
            await db.execute("COMMIT")
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.OperationalError):
                await db.execute("ROLLBACK")
            _raise_if_full(error)
            raise

    async def execute_alone(self, sql: str, params: Any = ()) -> int:
        async with self.transaction(row_safe=True) as db:
            return await db.execute(sql, params)

    async def fetch_alone(self, sql: str, params: Any = ()) -> list[Row]:
        async with self.transaction(row_safe=True) as db:
            return await db.fetch(sql, params)

    async def read(self, sql: str, params: Any = ()) -> list[Row]:
        return list(await self._reader.execute_fetchall(sql, params))

    async def stream(self, sql: str, params: Any = ()) -> AsyncIterator[Row]:
        async with self._reader.execute(sql, params) as cursor:
            async for row in cursor:
                yield row

    async def after_forget(self) -> None:
        """Copy the WAL into the file and empty it, so deleted rows' old pages leave the disk."""
        for _ in range(5):
            row = await SqliteTransaction(self.writer).fetchone("PRAGMA wal_checkpoint(TRUNCATE)")
            if row is not None and row[0] == 0:
                return
            await asyncio.sleep(0.05)
        log.warning("WAL checkpoint stayed busy; forgotten rows' old pages wait for the next one")


async def _connect(db_path: Path) -> aiosqlite.Connection:
    # isolation_level=None: no implicit transactions; the backend issues BEGIN IMMEDIATE itself.
    db = await aiosqlite.connect(db_path, isolation_level=None, timeout=10.0)
    db.row_factory = sqlite3.Row
    await db.execute("PRAGMA foreign_keys = ON")
    return db


def _raise_if_full(error: BaseException) -> None:
    """Raise StorageFull from `error` when it means the disk (or a quota) is full."""
    if isinstance(error, sqlite3.Error):
        full = error.sqlite_errorcode == sqlite3.SQLITE_FULL
    else:
        full = isinstance(error, OSError) and error.errno in _FULL_ERRNOS
    if full:
        raise StorageFull("The storage is full, so this was not saved.") from error

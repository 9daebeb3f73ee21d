"""The PostgreSQL backend (VOICEMOOD_DATABASE_URL=postgresql://...): a pool of asyncpg connections.

asyncpg, not SQLAlchemy's async engine: the Store already writes its SQL by hand, in one dialect
both engines read, so an engine would add a layer (and its own parameter style) without writing
any SQL for us. What differs from SQLite is small and lives here: `:name` and `?` parameters
become `$n` (translated once per statement and cached), a statement's row count comes from its
status line, and the schema version is a table (storage.migrations_postgres).

Atomic across processes: every write transaction first takes one transaction-scoped advisory
lock, so write transactions run one at a time across all processes and replicas sharing the
database, exactly as SQLite's BEGIN IMMEDIATE makes them in one file. Under READ COMMITTED each
statement after the lock sees every earlier commit, so the read-then-write steps of the Store
(consent, votes, claim_digest, baselines) keep the meaning they have on SQLite. Reads never take
the lock.

Except the steps every note takes (a person and a chat seen again or created, the note stored,
its reply linked): their transactions are "row-safe", correct beside one another by their rows'
own guarantees (unique keys with ON CONFLICT, updates whose WHERE PostgreSQL re-checks on the
locked row), so they take the lock SHARED and run side by side, while every other write takes it
EXCLUSIVE and still runs alone, as before: a step that is not row-safe never meets one that is.
A row-safe UPDATE that reads no other rows (the reply link) takes the lock inside itself and is
its own transaction (`execute_alone`): one trip to the server instead of three. Storing a note is
one call too (`fetch_alone` of voicemood_store_note, a function of the schema's that takes the
lock shared before its INSERT reads consent). A known person's note is 3 trips in all (its
arrival read, the note stored with its consent check, the reply link); a donor's audio and a
refusal still take a transaction. The one lock held a note 1-2.6 ms (two transactions, longer on a busy machine), so every
replica together got 390-970 notes a second through it, while a PostgreSQL server does about 450
a core and Redis about 970 (`bench/scale.py --simulate`): the lock bent first once the server
has a few cores, and under load row-safe writes store 1.5x the notes it let through.
"""

from __future__ import annotations

import errno
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from storage import migrations_postgres
from storage.backends.base import Dialect, Row
from storage.backends.postgres_pool import ConnectionPool
from storage.errors import DatabaseUnavailable, StorageFull

# pg_advisory_xact_lock's key for "a VoiceMood write is running" (any fixed bigint will do).
WRITE_LOCK = 0x766D_0001
_BEGIN_ALONE = f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
_BEGIN_SHARED = f"BEGIN; SELECT pg_advisory_xact_lock_shared({WRITE_LOCK})"
# Appended to a row-safe statement's WHERE by execute_alone: the lock taken shared inside it.
_HOLDING_SHARED = f" AND (SELECT true FROM pg_advisory_xact_lock_shared({WRITE_LOCK}))"
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# A quoted string (skipped), a `::` cast (kept), a :name parameter or a ? parameter.
_TOKENS = re.compile(r"'(?:[^']|'')*'|::|:([A-Za-z_][A-Za-z0-9_]*)|\?")


@contextmanager
def _full_disk_refused() -> Iterator[None]:
    """A write that found the server's disk (or quota) full raises StorageFull, a clear refusal."""
    try:
        yield
    except (asyncpg.DiskFullError, OSError) as error:
        if isinstance(error, OSError) and error.errno not in _FULL_ERRNOS:
            raise
        raise StorageFull("The storage is full, so this was not saved.") from error


class PostgresTransaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Any = ()) -> list[Row]:
        text, args = bind_parameters(sql, params)
        return list(await self._conn.fetch(text, *args))

    async def fetchone(self, sql: str, params: Any = ()) -> Row | None:
        records = await self.fetch(sql, params)
        return records[0] if records else None

    async def execute(self, sql: str, params: Any = ()) -> int:
        text, args = bind_parameters(sql, params)
        return _changed(await self._conn.execute(text, *args))


class PostgresBackend:
    dialect: Dialect = "postgres"

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, max_connections: int = 10) -> PostgresBackend:
        try:
            pool = await ConnectionPool.open(
                lambda: asyncpg.connect(url, server_settings={"application_name": "voicemood"}),
                max_connections,
            )
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            # The URL may carry a password: name only the host and port (the server's and the
            # socket's own messages never repeat a password).
            where = urlsplit(url)
            raise DatabaseUnavailable(
                f"Cannot open the PostgreSQL database at {where.hostname or 'the local socket'}"
                f":{where.port or 5432}: {error}",
            ) from None
        try:
            async with pool.acquire() as conn:
                await migrations_postgres.migrate(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self, *, row_safe: bool = False) -> AsyncIterator[PostgresTransaction]:
        """One transaction holding the write lock, shared when `row_safe` (see the docstring)."""
        with _full_disk_refused():
            async with self._pool.acquire() as conn:
                try:
                    # BEGIN and the lock in one round trip (two statements, one simple query):
                    # a trip to the server costs both sides CPU on every write.
                    await conn.execute(_BEGIN_SHARED if row_safe else _BEGIN_ALONE)
                    yield PostgresTransaction(conn)
                except BaseException:
                    await _roll_back(conn)
                    raise
                await conn.execute("COMMIT")

    async def execute_alone(self, sql: str, params: Any = ()) -> int:
        """A row-safe UPDATE or DELETE in one trip to the server, not three (BEGIN and the lock,
        the statement, COMMIT): it takes the lock shared itself, in its WHERE, so it waits for an
        exclusive write before it changes a row, and under READ COMMITTED an UPDATE or DELETE
        acts on the latest committed version of each row it changes (a row deleted meanwhile is
        skipped), as it would after BEGIN and the lock. Only for statements that read no other
        rows to decide (their snapshot is taken before the lock)."""
        text, args = bind_parameters(_holding_shared(sql), params)
        with _full_disk_refused():
            async with self._pool.acquire() as conn:
                status = await conn.execute(text, *args)
        return _changed(status)

    async def fetch_alone(self, sql: str, params: Any = ()) -> list[Row]:
        """A statement that takes the write lock itself (a function of the schema's, such as
        voicemood_store_note), as a transaction of its own in one trip; its rows."""
        text, args = bind_parameters(sql, params)
        with _full_disk_refused():
            return list(await self._pool.fetch(text, *args))

    async def read(self, sql: str, params: Any = ()) -> list[Row]:
        text, args = bind_parameters(sql, params)
        return list(await self._pool.fetch(text, *args))

    async def stream(self, sql: str, params: Any = ()) -> AsyncIterator[Row]:
        text, args = bind_parameters(sql, params)
        # A server-side cursor (it needs a transaction): rows come in batches, not all at once.
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            async for row in conn.cursor(text, *args):
                yield row

    async def after_forget(self) -> None:
        """VACUUM the database: deleted rows' dead versions leave the tables and indexes.

        All tables, not a list that a new person-keyed table could fall behind (cascades reach
        tables no DELETE names); unchanged pages are skipped by the visibility map. Plain VACUUM
        takes no lock that blocks reads or writes. The freed space and the WAL may still hold old
        bytes until PostgreSQL reuses them, as SQLite's free pages would without secure_delete.
        """
        async with self._pool.acquire() as conn:
            await conn.execute("VACUUM")


@lru_cache(maxsize=64)
def _holding_shared(sql: str) -> str:
    """`sql` (an UPDATE or DELETE ending in its WHERE) taking the write lock shared itself."""
    if "WHERE" not in sql.upper() or "RETURNING" in sql.upper():
        raise ValueError(f"execute_alone takes a statement ending in its WHERE: {sql}")
    return sql + _HOLDING_SHARED


def _changed(status: str) -> int:
    """The row count of a statement's status: "UPDATE 3", "DELETE 0", "INSERT 0 1": the last word."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def _roll_back(conn: asyncpg.Connection) -> None:
    """End a failed (or cancelled) write transaction; a connection that cannot is terminated by
    the pool when it goes back (storage.backends.postgres_pool)."""
    if conn.is_closed() or not conn.is_in_transaction():
        return
    try:
        await conn.execute("ROLLBACK")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        conn.terminate()


def bind_parameters(sql: str, params: Any) -> tuple[str, list[Any]]:
    """The statement in PostgreSQL's `$n` style and its arguments in order."""
    text, names = _translate(sql)
    if isinstance(params, Mapping):
        return text, [params[name] for name in names]
    return text, list(params)


@lru_cache(maxsize=512)
def _translate(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` -> `$n` (one n per name) and `?` -> `$1, $2, ...`; quoted text and `::` untouched."""
    names: list[str] = []
    positional = 0

    def number(match: re.Match[str]) -> str:
        nonlocal positional
        token, name = match.group(0), match.group(1)
        if token == "?":
            positional += 1
            return f"${positional}"
        if name is None:
            return token
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    text = _TOKENS.sub(number, sql)
    if names and positional:
        raise ValueError(f"a statement mixes :name and ? parameters: {sql}")
    return text, tuple(names)

"""Where the Store's SQL runs: one SQLite file (the default) or a PostgreSQL server.

The store's features write their rules once, in SQL both understand, with named (`:name`) or
positional (`?`) parameters; a backend runs that SQL, opens transactions, keeps the schema
version and maps a full disk to StorageFull. `open_backend` picks one from the database setting:
a `postgresql://` URL means PostgreSQL, anything else is the path of a SQLite file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Row(Protocol):
    """A result row: sqlite3.Row and asyncpg.Record both read by column name or position."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class Transaction(Protocol):
    """SQL inside one open transaction."""

    async def fetch(self, sql: str, params: Any = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Any = ()) -> Row | None: ...

    async def execute(self, sql: str, params: Any = ()) -> int:
        """Run a statement; returns how many rows it changed."""
        ...


class Backend(Protocol):
    dialect: Dialect

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """One write transaction that no other writer (task or process) interleaves with."""
        ...

    async def read(self, sql: str, params: Any = ()) -> list[Row]: ...

    def stream(self, sql: str, params: Any = ()) -> AsyncIterator[Row]: ...

    async def after_forget(self) -> None:
        """Push deleted rows' old bytes out of the database's files, as far as the engine can."""
        ...

    async def close(self) -> None: ...


def is_postgres_url(database: str | Path) -> bool:
    return isinstance(database, str) and database.startswith(POSTGRES_SCHEMES)


async def open_backend(database: str | Path) -> Backend:
    """Connect to the database (creating or upgrading its schema in place)."""
    if is_postgres_url(database):
        from storage.backends.postgres import PostgresBackend

        return await PostgresBackend.open(str(database))
    from storage.backends.sqlite import SqliteBackend

    return await SqliteBackend.open(Path(database))

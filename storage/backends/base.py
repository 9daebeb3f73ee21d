"""What every storage engine offers the store: a row, a transaction, a backend (protocols only).

Kept apart from `storage.backends` (which picks an engine and imports it) so the engines can
name these types without importing the package that imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]


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

    def transaction(self, *, row_safe: bool = False) -> AbstractAsyncContextManager[Transaction]:
        """One write transaction that no other writer (task or process) interleaves with.

        `row_safe`: the caller's statements stay correct beside other row-safe transactions
        (unique keys, ON CONFLICT, conditional updates), so an engine that can may run those
        side by side; every other transaction still runs alone (storage.db).
        """
        ...

    async def execute_alone(self, sql: str, params: Any = ()) -> int:
        """One row-safe UPDATE or DELETE (ending in its WHERE) as a write transaction of its own;
        how many rows it changed. The caller holds storage.db's lock where the engine needs it."""
        ...

    async def fetch_alone(self, sql: str, params: Any = ()) -> list[Row]:
        """A row-safe statement (or call) as a write transaction of its own; its rows. On
        PostgreSQL one trip, the statement taking the write lock itself (its caller's job)."""
        ...

    async def read(self, sql: str, params: Any = ()) -> list[Row]: ...

    def stream(self, sql: str, params: Any = ()) -> AsyncIterator[Row]: ...

    async def after_forget(self) -> None:
        """Push deleted rows' old bytes out of the database's files, as far as the engine can."""
        ...

    async def close(self) -> None: ...

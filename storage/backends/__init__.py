"""Where the Store's SQL runs: one SQLite file (the default) or a PostgreSQL server.

The store's features write their rules once, in SQL both understand, with named (`:name`) or
positional (`?`) parameters; a backend runs that SQL, opens transactions, keeps the schema
version and maps a full disk to StorageFull. `open_backend` picks one from the database setting:
a `postgresql://` URL means PostgreSQL, anything else is the path of a SQLite file.
"""

from __future__ import annotations

from pathlib import Path

from storage.backends.base import Backend, Dialect, Row, Transaction

__all__ = ["Backend", "Dialect", "Row", "Transaction", "is_postgres_url", "open_backend"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(database: str | Path) -> bool:
    return isinstance(database, str) and database.startswith(POSTGRES_SCHEMES)


async def open_backend(database: str | Path) -> Backend:
    """Connect to the database (creating or upgrading its schema in place)."""
    if is_postgres_url(database):
        from storage.backends.postgres import PostgresBackend

        return await PostgresBackend.open(str(database))
    from storage.backends.sqlite import SqliteBackend

    return await SqliteBackend.open(Path(database))

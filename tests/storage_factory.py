"""Helpers for the storage tests: a real Store (on a SQLite file in a temp folder, or on a fresh
PostgreSQL database), raw reads that bypass the Store, and notes to fill it.

The `storage_backend` fixture (tests/conftest.py) runs each storage test once per backend; for
PostgreSQL it registers the test folder's database in DATABASES, so `open_store(tmp_path)`,
called again, reopens the same database, as reopening the same SQLite file does.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from inference.labels import CANONICAL_LABELS
from storage.backends import is_postgres_url
from storage.models import Chat, Person, StoredNote
from storage.store import Store

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# The PostgreSQL database of a test folder (absent: the folder's SQLite file).
DATABASES: dict[Path, str] = {}


def database(folder: Path) -> str | Path:
    return DATABASES.get(folder, folder / "db" / "voicemood.sqlite3")


async def open_store(folder: Path) -> Store:
    return await Store.open(database(folder), folder / "data", labels=CANONICAL_LABELS)


async def raw_rows(folder: Path, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """Rows read straight from the folder's database, past the Store (`?` or `:name` params)."""
    target = database(folder)
    if is_postgres_url(target):
        import asyncpg

        from storage.backends.postgres import bind_parameters

        conn = await asyncpg.connect(str(target))
        try:
            text, args = bind_parameters(sql, params)
            return [tuple(record) for record in await conn.fetch(text, *args)]
        finally:
            await conn.close()
    with sqlite3.connect(target) as db:
        return [tuple(row) for row in db.execute(sql, params)]


async def table_columns(folder: Path) -> dict[str, set[str]]:
    """Every table of the schema (the version's own bookkeeping aside) with its column names."""
    if is_postgres_url(database(folder)):
        records = await raw_rows(
            folder,
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name != 'schema_version'",
        )
        tables: dict[str, set[str]] = {}
        for table, column in records:
            tables.setdefault(table, set()).add(column)
        return tables
    names = await raw_rows(
        folder, "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
    )
    return {
        name: {row[1] for row in await raw_rows(folder, f'PRAGMA table_info("{name}")')}
        for (name,) in names
    }


def at(seconds: float) -> datetime:
    """A fixed UTC time `seconds` after T0, so ordering in tests never depends on the clock."""
    return T0 + timedelta(seconds=seconds)


async def add_note(
    store: Store,
    person: Person,
    chat: Chat,
    message_id: str | int,
    *,
    label: str = "happy",
    seconds: float = 0.0,
    audio: bytes | None = None,
    probabilities: dict[str, float] | None = None,
) -> StoredNote:
    other = "calm" if label == "neutral" else "neutral"
    probs = probabilities or {label: 0.75, other: 0.25}
    return await store.add_note(
        person,
        chat,
        message_id=message_id,
        duration_s=3.5,
        model="test-model-v1",
        label=label,
        confidence=max(probs.values()),
        probabilities=probs,
        at=at(seconds),
        audio=audio,
    )

"""What every feature of the store shares: the backend, the one write lock, the data folder.

Every write is one transaction behind an asyncio lock, so concurrent tasks never interleave inside
one (and the backend keeps other processes out: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
lock). On PostgreSQL a row-safe write (`write(row_safe=True)`, correct beside other row-safe
writes by unique keys and ON CONFLICT) skips the asyncio lock and takes the advisory lock shared
(storage/backends/postgres.py); `write_one` is a row-safe UPDATE as a write of its own, one trip
there. Reads see only committed data and never wait for the writer. A write that spans features
(move_chat, forget, a note checked against consent) is still one `write()`: the features' helpers
that run inside it take the open Transaction, never open their own.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from storage import values
from storage.backends import Backend, Dialect, Row, Transaction
from storage.errors import InvalidLabel

_ANY_LABEL = re.compile(r"^[a-z][a-z_]{0,31}$")


class Db:
    """The backend with its write lock, the folder donated audio lives in, the labels notes may carry."""

    def __init__(self, backend: Backend, data_dir: Path, labels: frozenset[str] | None) -> None:
        self.backend = backend
        self.data_dir = data_dir
        self.labels = labels
        # Held by every write, and across a write's file work that must not interleave with another.
        self.lock = asyncio.Lock()

    @property
    def dialect(self) -> Dialect:
        return self.backend.dialect

    @asynccontextmanager
    async def write(self, *, row_safe: bool = False) -> AsyncIterator[Transaction]:
        """The write lock and one transaction around it (see the module's docstring)."""
        async with (
            self.holding(row_safe=row_safe),
            self.backend.transaction(row_safe=row_safe) as db,
        ):
            yield db

    async def write_one(self, sql: str, params: Any = ()) -> int:
        """One row-safe UPDATE or DELETE as a write of its own (on PostgreSQL one trip to the
        server: Backend.execute_alone); how many rows it changed."""
        async with self.holding(row_safe=True):
            return await self.backend.execute_alone(sql, params)

    def holding(self, *, row_safe: bool = False) -> AbstractAsyncContextManager[object]:
        """This process's write lock, which PostgreSQL's row-safe writes do without."""
        if row_safe and self.dialect == "postgres":
            return nullcontext()
        return self.lock

    async def read(self, sql: str, params: Any = ()) -> list[Row]:
        return await self.backend.read(sql, params)

    async def read_one(self, sql: str, params: Any = ()) -> Row | None:
        records = await self.read(sql, params)
        return records[0] if records else None

    def stream(self, sql: str, params: Any = ()) -> AsyncIterator[Row]:
        return self.backend.stream(sql, params)

    async def close(self) -> None:
        async with self.lock:
            await self.backend.close()

    def label(self, label: str) -> str:
        """`label` if notes and votes may carry it; InvalidLabel otherwise."""
        known = label in self.labels if self.labels is not None else _ANY_LABEL.match(label)
        if not known:
            raise InvalidLabel(f"{label!r} is not a label VoiceMood knows.", label=label)
        return label

    def probabilities(self, probabilities: Mapping[str, float]) -> str:
        """Checked probabilities as the JSON text a note stores."""
        for label, p in probabilities.items():
            self.label(label)
            values.check_number(p, f"probability of {label}", 0.0, 1.0)
        return json.dumps({str(k): float(v) for k, v in probabilities.items()}, allow_nan=False)

"""A person's voice baseline: its own grant, and running statistics that exist only under it.

Reached as `store.baselines`. The statistics (of embeddings per encoder, and of voice cues) are
numbers, never audio, kept only while the person's baseline grant (baseline_consents) is in
force; withdrawing the grant deletes them by the schema's cascade.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from storage import rows, values
from storage.backends import Transaction
from storage.db import Db
from storage.errors import NotConsented
from storage.models import Person, StoredBaseline
from storage.people import require_person

_GRANT_SQL = "SELECT given_at FROM baseline_consents WHERE person_id = ?"
_BASELINE_SQL = "SELECT * FROM baselines WHERE person_id = ? AND encoder = ?"
_CUE_BASELINE_SQL = "SELECT stats, updated_at FROM cue_baselines WHERE person_id = ?"
# The statistics go with the grant by the cascade (SQLite zeroes deleted rows: secure_delete).
END_GRANT_SQL = "DELETE FROM baseline_consents WHERE person_id = :person"


@dataclass(frozen=True)
class CueStatistics:
    """The person's voice-cue running statistics, opaque bytes (inference.cues.CueBaseline)."""

    stats: bytes
    updated_at: datetime


class BaselineStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def give_consent(self, person: Person, *, at: datetime | None = None) -> datetime:
        """Let the person's voice statistics be kept; idempotent, returns when it was given."""
        async with self._db.write() as db:
            await require_person(db, person)
            await db.execute(
                "INSERT INTO baseline_consents (person_id, given_at) VALUES (?, ?)"
                " ON CONFLICT (person_id) DO NOTHING",
                (person.id, values.timestamp(at)),
            )
            row = await db.fetchone(_GRANT_SQL, (person.id,))
        assert row is not None
        return rows.to_datetime(row["given_at"])

    async def withdraw_consent(self, person: Person) -> bool:
        """End the grant and delete the statistics with it; True if it was in force."""
        async with self._db.write() as db:
            return await db.execute(END_GRANT_SQL, {"person": person.id}) > 0

    async def consent(self, person: Person) -> datetime | None:
        """When the person switched their baseline on (None while it is off)."""
        row = await self._db.read_one(_GRANT_SQL, (person.id,))
        return rows.to_datetime(row["given_at"]) if row is not None else None

    async def baseline(self, person: Person, encoder: str) -> StoredBaseline | None:
        """The person's statistics built by `encoder`; one built by another is never handed out."""
        row = await self._db.read_one(_BASELINE_SQL, (person.id, encoder))
        return rows.baseline(row) if row is not None else None

    async def baselines(self, person: Person) -> list[StoredBaseline]:
        """The person's statistics whatever encoder built them (for their own copy)."""
        records = await self._db.read("SELECT * FROM baselines WHERE person_id = ?", (person.id,))
        return [rows.baseline(row) for row in records]

    async def update_baseline(
        self,
        person: Person,
        encoder: str,
        update: Callable[[StoredBaseline | None], StoredBaseline],
    ) -> StoredBaseline:
        """Replace the statistics with `update(current)`, read and written in one transaction.

        `current` is None when nothing was kept or it was built by another encoder (so it is
        reset). One transaction, so two notes learned at once both count. Raises NotConsented
        while the grant is not in force: nothing is kept without it.
        """
        async with self._db.write() as db:
            await _require_grant(db, person)
            row = await db.fetchone(_BASELINE_SQL, (person.id, encoder))
            new = update(rows.baseline(row) if row is not None else None)
            if new.encoder != encoder or new.dim <= 0 or new.count < 0 or not new.stats:
                raise ValueError(f"a baseline update for {encoder} returned {new!r}")
            now = clock.time()
            await db.execute(
                "INSERT INTO baselines (person_id, encoder, dim, count, stats, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET"
                " encoder = excluded.encoder, dim = excluded.dim, count = excluded.count,"
                " stats = excluded.stats, updated_at = excluded.updated_at",
                (person.id, encoder, new.dim, new.count, new.stats, now),
            )
        return replace(new, updated_at=rows.to_datetime(now))

    async def cue_statistics(self, person: Person) -> CueStatistics | None:
        """The person's voice-cue statistics and when they last changed (None: none kept)."""
        row = await self._db.read_one(_CUE_BASELINE_SQL, (person.id,))
        if row is None:
            return None
        return CueStatistics(bytes(row["stats"]), rows.to_datetime(row["updated_at"]))

    async def cue_baseline(self, person: Person) -> bytes | None:
        """The person's voice-cue statistics (opaque: inference.cues.CueBaseline's bytes)."""
        found = await self.cue_statistics(person)
        return found.stats if found is not None else None

    async def update_cue_baseline(
        self, person: Person, update: Callable[[bytes | None], bytes]
    ) -> bytes:
        """Replace the cue statistics with `update(current)` in one transaction.

        Raises NotConsented while the baseline grant is not in force, as update_baseline does.
        """
        async with self._db.write() as db:
            await _require_grant(db, person)
            row = await db.fetchone(_CUE_BASELINE_SQL, (person.id,))
            new = update(bytes(row["stats"]) if row is not None else None)
            if not new:
                raise ValueError("a cue baseline update returned no statistics")
            await db.execute(
                "INSERT INTO cue_baselines (person_id, stats, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (person_id) DO UPDATE SET"
                " stats = excluded.stats, updated_at = excluded.updated_at",
                (person.id, new, clock.time()),
            )
        return new


async def _require_grant(db: Transaction, person: Person) -> None:
    if await db.fetchone(_GRANT_SQL, (person.id,)) is None:
        raise NotConsented(
            "This person has not switched their voice baseline on.", person_id=person.id
        )

"""Running statistics of the notes analysed in each language: numbers averaged over everyone.

Reached as `store.languages`. One row per language (a code: `en`, `ur`) holds the count, and
(opaque to storage) the mean and M2 of the model's note vectors (inference.baseline.SpeakerBaseline's bytes), never
audio and nobody's own numbers. Beside it, only *that* a person's notes are in a language's
statistics, so each person counts once among its `people`; /forget deletes that mark, but cannot
take the person's notes back out of an average.

Several replicas add notes at once, so a note is merged in one transaction that reads the row
locked: SQLite's BEGIN IMMEDIATE already runs writers one at a time; on PostgreSQL the write is
row-safe (storage.backends.postgres) and `SELECT ... FOR UPDATE` makes a second replica wait for
the first one's merge, then read its result. Two replicas creating a language's first row race
on the primary key: the loser's insert does nothing and it merges into the winner's row.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime

from storage import rows
from storage.backends import Row, Transaction
from storage.db import Db
from storage.models import Person

_ROW_SQL = "SELECT * FROM language_stats WHERE language = ?"
_COUNTED_SQL = "SELECT 1 FROM language_stats_people WHERE person_id = ? AND language = ?"
# Counted only while the person exists (one forgotten meanwhile leaves no mark).
_COUNT_SQL = (
    "INSERT INTO language_stats_people (person_id, language)"
    " SELECT id, ? FROM persons WHERE id = ? ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class LanguageStatistics:
    """A language's running statistics as kept: numbers of many people's notes, never audio."""

    language: str
    # The model whose note vectors these describe; another model's notes start them afresh.
    model: str
    count: int
    dim: int
    # Opaque to storage: SpeakerBaseline.to_bytes() / from_bytes(count, stats).
    stats: bytes
    # How many different people's notes are in them (each counted once).
    people: int = 0
    updated_at: datetime | None = None


class LanguageStatsStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def statistics(self, language: str) -> LanguageStatistics | None:
        """The language's statistics (None: none kept)."""
        row = await self._db.read_one(_ROW_SQL, (language,))
        return _statistics(row) if row is not None else None

    async def add_note(
        self,
        person: Person,
        language: str,
        model: str,
        update: Callable[[LanguageStatistics | None], LanguageStatistics],
    ) -> LanguageStatistics:
        """Replace the language's statistics with `update(current)`, in one transaction.

        `current` is None when nothing is kept for the language or it was built by another
        model (so the statistics and their people start afresh). `update` returns the merged
        count, dim and stats; the person is counted among the people once.
        """
        lock = " FOR UPDATE" if self._db.dialect == "postgres" else ""
        async with self._db.write(row_safe=True) as db:
            while True:
                row = await db.fetchone(_ROW_SQL + lock, (language,))
                merged = await _merge(db, row, person, language, model, update)
                if merged is not None:
                    return merged
                # Another replica created the row between our read and insert: merge into it.

    async def counted_in(self, person: Person) -> list[str]:
        """The languages whose statistics count the person among their people (for /export)."""
        records = await self._db.read(
            "SELECT language FROM language_stats_people WHERE person_id = ? ORDER BY language",
            (person.id,),
        )
        return [str(row["language"]) for row in records]

    async def clear(self, languages: Collection[str] | None = None) -> int:
        """Delete the statistics of `languages` (None: every language) and their people;
        returns how many languages."""
        where = ""
        args: tuple[str, ...] = ()
        if languages is not None:
            if not languages:
                return 0
            codes = tuple(sorted(languages))
            where, args = f" WHERE language IN ({', '.join('?' * len(codes))})", codes
        if await self._db.read_one(f"SELECT 1 FROM language_stats{where} LIMIT 1", args) is None:
            return 0  # nothing kept: no write
        async with self._db.write() as db:
            await db.execute(f"DELETE FROM language_stats_people{where}", args)
            return await db.execute(f"DELETE FROM language_stats{where}", args)


async def _merge(
    db: Transaction,
    row: Row | None,
    person: Person,
    language: str,
    model: str,
    update: Callable[[LanguageStatistics | None], LanguageStatistics],
) -> LanguageStatistics | None:
    """Write the merged statistics; None when the row appeared after `row` was read as absent."""
    kept = _statistics(row) if row is not None and row["model"] == model else None
    new_person = kept is None or await db.fetchone(_COUNTED_SQL, (person.id, language)) is None
    new = update(kept)
    if new.dim <= 0 or new.count <= 0 or not new.stats:
        raise ValueError(f"a language statistics update for {language} returned {new!r}")
    people = (kept.people if kept is not None else 0) + int(new_person)
    now = clock.time()
    values = (model, new.dim, new.count, people, new.stats, now, language)
    if row is None:
        inserted = await db.execute(
            "INSERT INTO language_stats (model, dim, count, people, stats, updated_at, language)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (language) DO NOTHING",
            values,
        )
        if not inserted:
            return None
    else:
        if kept is None:
            # Another model's statistics: their people are not this model's.
            await db.execute("DELETE FROM language_stats_people WHERE language = ?", (language,))
        await db.execute(
            "UPDATE language_stats SET model = ?, dim = ?, count = ?, people = ?, stats = ?,"
            " updated_at = ? WHERE language = ?",
            values,
        )
    if new_person:
        await db.execute(_COUNT_SQL, (language, person.id))
    return replace(
        new, language=language, model=model, people=people, updated_at=rows.to_datetime(now)
    )


def _statistics(row: Row) -> LanguageStatistics:
    return LanguageStatistics(
        language=str(row["language"]),
        model=str(row["model"]),
        count=int(row["count"]),
        dim=int(row["dim"]),
        stats=bytes(row["stats"]),
        people=int(row["people"]),
        updated_at=rows.to_datetime(row["updated_at"]),
    )

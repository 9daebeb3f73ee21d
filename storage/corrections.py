"""A person's corrections: their notes' embeddings, kept under their baseline grant, and the votes
that make them labelled examples of their voice (inference.personal).

Reached as `store.corrections`. Each row is one of the person's own notes, as numbers only (the
note's pooled embedding and the model's own probabilities for it, before any personal
adjustment), never audio; the person's own vote on that note is its label. Rows exist only while
the baseline grant (baseline_consents) is in force: /baseline off, /forget and a deleted note
remove them by the schema's cascade. Unvoted rows are kept only for the person's latest
UNVOTED_KEPT notes (a correction is made soon after the answer), and at most KEPT_NOTES in all.
"""

from __future__ import annotations

import json
import time as clock
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from storage import rows
from storage.backends import Row, Transaction
from storage.db import Db
from storage.errors import NotConsented
from storage.models import Person

# The person's latest notes whose embeddings wait for a vote; older unvoted ones are deleted.
UNVOTED_KEPT = 20
# Every row of one person, voted or not: the oldest beyond this are deleted.
KEPT_NOTES = 64
_FORMAT = np.dtype("<f4")
# Rows of one person, newest first, with their own vote on the note (NULL: none yet).
_ROWS_SQL = """
    SELECT c.note_id, c.model, c.dim, c.embedding, c.probabilities, c.created_at, v.label
    FROM correction_notes c
    LEFT JOIN votes v ON v.note_id = c.note_id AND v.voter_id = c.person_id
    WHERE c.person_id = :person {where}
    ORDER BY c.note_id DESC {limit}
"""
_PRUNE_SQL = """
    DELETE FROM correction_notes WHERE person_id = :person AND (
        note_id NOT IN (
            SELECT note_id FROM correction_notes WHERE person_id = :person
            ORDER BY note_id DESC LIMIT :kept)
        OR (
            note_id NOT IN (SELECT note_id FROM votes WHERE voter_id = :person)
            AND note_id NOT IN (
                SELECT note_id FROM correction_notes WHERE person_id = :person
                ORDER BY note_id DESC LIMIT :unvoted)))
"""


@dataclass(frozen=True)
class CorrectionNote:
    """One kept note: its embedding, the model's own probabilities, and the person's vote (if any)."""

    note_id: int
    model: str
    embedding: np.ndarray
    probabilities: dict[str, float]
    label: str | None
    created_at: datetime


class CorrectionStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def keep(
        self,
        person: Person,
        note_id: int,
        model: str,
        embedding: np.ndarray,
        probabilities: Mapping[str, float],
    ) -> None:
        """Keep a note's numbers for a later correction; NotConsented while the baseline is off."""
        vector = np.ascontiguousarray(np.asarray(embedding).ravel(), _FORMAT)
        if vector.size == 0 or not np.all(np.isfinite(vector)):
            raise ValueError("a correction note needs a finite embedding")
        probs = self._db.probabilities(probabilities)
        async with self._db.write() as db:
            await _require_grant(db, person)
            await db.execute(
                "INSERT INTO correction_notes"
                " (note_id, person_id, model, dim, embedding, probabilities, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (note_id) DO NOTHING",
                (
                    note_id,
                    person.id,
                    model,
                    int(vector.size),
                    vector.tobytes(),
                    probs,
                    clock.time(),
                ),
            )
            await db.execute(
                _PRUNE_SQL, {"person": person.id, "kept": KEPT_NOTES, "unvoted": UNVOTED_KEPT}
            )

    async def corrections(self, person: Person, model: str, limit: int) -> list[CorrectionNote]:
        """The person's latest `limit` voted notes heard by `model`, oldest first."""
        sql = _ROWS_SQL.format(
            where="AND c.model = :model AND v.label IS NOT NULL", limit="LIMIT :limit"
        )
        records = await self._db.read(sql, {"person": person.id, "model": model, "limit": limit})
        return [_note(row) for row in reversed(records)]

    async def notes(self, person: Person) -> list[CorrectionNote]:
        """Every kept row of the person, oldest first (for their own copy)."""
        records = await self._db.read(_ROWS_SQL.format(where="", limit=""), {"person": person.id})
        return [_note(row) for row in reversed(records)]


def _note(row: Row) -> CorrectionNote:
    return CorrectionNote(
        note_id=int(row["note_id"]),
        model=str(row["model"]),
        embedding=np.frombuffer(bytes(row["embedding"]), _FORMAT).astype(np.float32),
        probabilities={str(k): float(v) for k, v in json.loads(row["probabilities"]).items()},
        label=None if row["label"] is None else str(row["label"]),
        created_at=rows.to_datetime(row["created_at"]),
    )


async def _require_grant(db: Transaction, person: Person) -> None:
    found = await db.fetchone("SELECT 1 FROM baseline_consents WHERE person_id = ?", (person.id,))
    if found is None:
        raise NotConsented(
            "This person has not switched their voice baseline on.", person_id=person.id
        )

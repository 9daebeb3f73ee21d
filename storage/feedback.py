"""Feedback: people's votes on what a note's label is, the final label they settle on, and the
donated, voted clips that retraining reads.

Reached as `store.feedback`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import datetime

from storage import rows, values
from storage.backends import Dialect
from storage.db import Db
from storage.errors import InvalidValue, NoteNotFound
from storage.models import DonatedClip, Person, Vote
from storage.people import require_person

# The final label of each note among {notes}: most votes; a tie goes to the label whose first
# vote came first. The model's own answer (notes.label) is not a vote and is never counted.
_FINAL_LABELS_SQL = """
    WITH tally AS (
        SELECT note_id, label, COUNT(*) AS n, MIN(created_at) AS first_at, MIN(id) AS first_id
        FROM votes WHERE note_id IN ({notes})
        GROUP BY note_id, label
    ), ranked AS (
        SELECT note_id, label,
               ROW_NUMBER() OVER (PARTITION BY note_id ORDER BY n DESC, first_at, first_id) AS rank
        FROM tally
    )
    SELECT note_id, label FROM ranked WHERE rank = 1
"""
# :notes is a JSON array of note ids; how it becomes rows is the one thing the engines word apart.
_NOTE_IDS: dict[Dialect, str] = {
    "sqlite": "SELECT value FROM json_each(:notes)",
    "postgres": "SELECT value::bigint FROM json_array_elements_text(CAST(:notes AS json))",
}
# Donated audio whose donor's consent is still in force, each with its final label.
_WITH_AUDIO = "SELECT id FROM notes WHERE audio_path IS NOT NULL"
_DONATED_CLIPS_SQL = f"""
    WITH final AS ({_FINAL_LABELS_SQL.format(notes=_WITH_AUDIO)})
    SELECT n.id AS note_id, n.audio_path, p.platform, p.id AS person_id, f.label
    FROM final f JOIN notes n ON n.id = f.note_id JOIN persons p ON p.id = n.person_id
    WHERE EXISTS (
        SELECT 1 FROM consents c
        WHERE c.person_id = p.id AND c.kind = 'donate_audio' AND c.withdrawn_at IS NULL)
    ORDER BY n.id
"""


def final_labels_sql(dialect: Dialect) -> str:
    """The final-label query with :notes (a JSON array of note ids) in `dialect`'s words."""
    return _FINAL_LABELS_SQL.format(notes=_NOTE_IDS[dialect])


class FeedbackStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def vote(
        self,
        voter: Person,
        note_id: int,
        label: str,
        *,
        intensity: float | None = None,
        at: datetime | None = None,
    ) -> Vote:
        """Record what `voter` says the note's label is; their earlier vote on it is replaced."""
        label = self._db.label(label)
        if intensity is not None and not (
            isinstance(intensity, int | float) and 0.0 <= intensity <= 1.0
        ):
            raise InvalidValue("Intensity must be between 0 and 1.", intensity=intensity)
        created = values.timestamp(at)
        async with self._db.write() as db:
            if await db.fetchone("SELECT 1 FROM notes WHERE id = ?", (note_id,)) is None:
                raise NoteNotFound("That voice note is no longer stored.", note_id=note_id)
            await require_person(db, voter)
            # The old row goes and a new one comes, so the replacement counts from its own time
            # (and id) when ties are broken.
            await db.execute(
                "DELETE FROM votes WHERE note_id = ? AND voter_id = ?", (note_id, voter.id)
            )
            await db.execute(
                "INSERT INTO votes (note_id, voter_id, label, intensity, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (note_id, voter.id, label, intensity, created),
            )
        return Vote(note_id, voter.id, label, intensity, rows.to_datetime(created))

    async def unvote(self, voter: Person, note_id: int, label: str | None = None) -> bool:
        """Withdraw `voter`'s vote on the note, only if it is for `label` when given; True if so."""
        if label is not None:
            label = self._db.label(label)
        async with self._db.write() as db:
            changed = await db.execute(
                "DELETE FROM votes WHERE note_id = :note AND voter_id = :voter"
                " AND (CAST(:label AS TEXT) IS NULL OR label = :label)",
                {"note": note_id, "voter": voter.id, "label": label},
            )
            return changed > 0

    async def votes(self, note_id: int) -> list[Vote]:
        records = await self._db.read(
            "SELECT * FROM votes WHERE note_id = ? ORDER BY created_at, id", (note_id,)
        )
        return [rows.vote(row) for row in records]

    async def votes_cast(self, person: Person) -> list[Vote]:
        """Every vote the person cast, oldest first (for their own copy)."""
        records = await self._db.read(
            "SELECT * FROM votes WHERE voter_id = ? ORDER BY created_at, id", (person.id,)
        )
        return [rows.vote(row) for row in records]

    async def final_label(self, note_id: int) -> str | None:
        """The label the votes settled on (None without votes; the model's answer is no vote)."""
        return (await self.final_labels([note_id])).get(note_id)

    async def final_labels(self, note_ids: Iterable[int]) -> dict[int, str]:
        """Final labels of the notes that have votes, by note id."""
        records = await self._db.read(
            final_labels_sql(self._db.dialect),
            {"notes": json.dumps([int(i) for i in note_ids])},
        )
        return {int(row["note_id"]): str(row["label"]) for row in records}

    async def donated_clips(self) -> AsyncIterator[DonatedClip]:
        """Donated audio that has a final label, for retraining (streamed, oldest first)."""
        async for row in self._db.stream(_DONATED_CLIPS_SQL):
            yield DonatedClip(
                note_id=int(row["note_id"]),
                speaker=f"{row['platform']}:{row['person_id']}",
                label=str(row["label"]),
                audio_path=str(row["audio_path"]),
            )

"""A person's own choices: whether they see their notes' words, and their own words for labels.

Reached as `store.preferences`. The transcript choice is a row while it is on; the words of a
note are never stored. A label word changes only what the person is shown: the canonical label
stays on every note, for training and summaries.
"""

from __future__ import annotations

import time as clock
from datetime import datetime

from storage import rows, values
from storage.db import Db
from storage.models import Person
from storage.people import require_person

RESET_WORDS_SQL = "DELETE FROM label_words WHERE person_id = :person"


class PreferenceStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def set_transcript(self, person: Person, on: bool) -> None:
        """Switch the person's transcript on or off; idempotent."""
        async with self._db.write() as db:
            await require_person(db, person)
            if on:
                await db.execute(
                    "INSERT INTO transcript_choices (person_id, given_at) VALUES (?, ?)"
                    " ON CONFLICT (person_id) DO NOTHING",
                    (person.id, clock.time()),
                )
            else:
                await db.execute("DELETE FROM transcript_choices WHERE person_id = ?", (person.id,))

    async def transcript_on_since(self, person: Person) -> datetime | None:
        """When the person switched their transcript on (None while it is off)."""
        row = await self._db.read_one(
            "SELECT given_at FROM transcript_choices WHERE person_id = ?", (person.id,)
        )
        return rows.to_datetime(row["given_at"]) if row is not None else None

    async def transcript_on(self, person: Person) -> bool:
        return await self.transcript_on_since(person) is not None

    async def label_words(self, person: Person) -> dict[str, str]:
        """The person's own words for labels (label -> word); empty when they chose none."""
        records = await self._db.read(
            "SELECT label, word FROM label_words WHERE person_id = ? ORDER BY label", (person.id,)
        )
        return {str(row["label"]): str(row["word"]) for row in records}

    async def set_label_word(self, person: Person, label: str, word: str) -> str:
        """Call `label` `word` for this person from now on; returns the word as kept."""
        label, word = self._db.label(label), values.label_word(word)
        async with self._db.write() as db:
            await require_person(db, person)
            await db.execute(
                "INSERT INTO label_words (person_id, label, word, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (person_id, label) DO UPDATE SET"
                " word = excluded.word, updated_at = excluded.updated_at",
                (person.id, label, word, clock.time()),
            )
        return word

    async def reset_label_words(self, person: Person) -> int:
        """Forget the person's words (back to the usual names); how many there were."""
        async with self._db.write() as db:
            return await db.execute(RESET_WORDS_SQL, {"person": person.id})

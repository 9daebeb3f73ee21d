"""A person's choice to have the faces in their video notes read (/face on), and its one hint.

Reached as `store.faces`. One row per person at most: `given_at` while /face on is in force
(NULL once switched off), and `hinted_at`, when the one-sentence hint that /face exists was
shown, so it is shown once. Never a frame, a picture or a video: faces are read and forgotten.
/forget removes the row with the person (the cascade).
"""

from __future__ import annotations

import time as clock
from datetime import datetime

from storage import rows
from storage.db import Db
from storage.models import Person
from storage.people import require_person

_CHOICE_SQL = "SELECT given_at, hinted_at FROM face_choices WHERE person_id = ?"


class FaceStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def set_reading(self, person: Person, on: bool) -> None:
        """Switch the reading of the person's faces on or off; idempotent."""
        async with self._db.write() as db:
            await require_person(db, person)
            if on:
                await db.execute(
                    "INSERT INTO face_choices (person_id, given_at) VALUES (?, ?)"
                    " ON CONFLICT (person_id) DO UPDATE SET"
                    " given_at = COALESCE(face_choices.given_at, excluded.given_at)",
                    (person.id, clock.time()),
                )
            else:
                await db.execute(
                    "UPDATE face_choices SET given_at = NULL WHERE person_id = ?", (person.id,)
                )

    async def reading_on_since(self, person: Person) -> datetime | None:
        """When the person switched /face on (None while it is off)."""
        row = await self._db.read_one(_CHOICE_SQL, (person.id,))
        if row is None or row["given_at"] is None:
            return None
        return rows.to_datetime(row["given_at"])

    async def reading_on(self, person: Person) -> bool:
        return await self.reading_on_since(person) is not None

    async def hint_shown_at(self, person: Person) -> datetime | None:
        """When the hint that /face exists was shown to the person (None: never)."""
        row = await self._db.read_one(_CHOICE_SQL, (person.id,))
        if row is None or row["hinted_at"] is None:
            return None
        return rows.to_datetime(row["hinted_at"])

    async def take_hint(self, person: Person) -> bool:
        """True the first time only: the hint that /face exists is then to be shown, once."""
        async with self._db.write() as db:
            await require_person(db, person)
            claimed = await db.execute(
                "INSERT INTO face_choices (person_id, hinted_at) VALUES (?, ?)"
                " ON CONFLICT (person_id) DO UPDATE SET hinted_at = excluded.hinted_at"
                " WHERE face_choices.hinted_at IS NULL",
                (person.id, clock.time()),
            )
        return claimed > 0

"""A person's music choice (match or lift) and the last songs suggested to them.

Reached as `store.music`. One row per person who asked for music or chose a mode (schema step
10): the mode and the catalogue keys of the latest suggestion, nothing else. The last set lives
here rather than in a process's memory, so "never the same three twice in a row" holds across
bot replicas. /export shows the row; /forget deletes it with the person.
"""

from __future__ import annotations

import re
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage import rows
from storage.db import Db
from storage.errors import InvalidValue
from storage.models import Person
from storage.people import require_person

MUSIC_MODES = ("match", "lift")
DEFAULT_MODE = "match"
MAX_SONGS = 3
# A catalogue key, as inference.music.Song.key writes it ("pmemo:124", "film:17").
_SONG_KEY = re.compile(r"[a-z]{1,16}:[A-Za-z0-9_-]{1,32}")
FORGET_SQL = "DELETE FROM music_choices WHERE person_id = :person"
_ROW_SQL = "SELECT mode, last_songs, updated_at FROM music_choices WHERE person_id = ?"


@dataclass(frozen=True)
class MusicChoice:
    """The person's mode and the keys of the songs suggested last (oldest request forgotten)."""

    mode: str
    last_songs: tuple[str, ...]
    updated_at: datetime


class MusicStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def choice(self, person: Person) -> MusicChoice | None:
        """The person's row; None when they never asked for music nor chose a mode."""
        row = await self._db.read_one(_ROW_SQL, (person.id,))
        if row is None:
            return None
        keys = tuple(k for k in str(row["last_songs"]).split(",") if k)
        return MusicChoice(str(row["mode"]), keys, rows.to_datetime(row["updated_at"]))

    async def mode(self, person: Person) -> str:
        """ "match" or "lift"; "match" until the person chooses."""
        kept = await self.choice(person)
        return kept.mode if kept is not None else DEFAULT_MODE

    async def set_mode(self, person: Person, mode: str) -> None:
        if mode not in MUSIC_MODES:
            raise InvalidValue(f"music mode must be one of {MUSIC_MODES}", value=mode)
        async with self._db.write() as db:
            await require_person(db, person)
            await db.execute(
                "INSERT INTO music_choices (person_id, mode, last_songs, updated_at)"
                " VALUES (?, ?, '', ?) ON CONFLICT (person_id) DO UPDATE SET"
                " mode = excluded.mode, updated_at = excluded.updated_at",
                (person.id, mode, clock.time()),
            )

    async def remember(self, person: Person, songs: Sequence[str]) -> None:
        """Keep `songs` (catalogue keys) as the person's latest suggestion, replacing the last."""
        if len(songs) > MAX_SONGS or not all(_SONG_KEY.fullmatch(k) for k in songs):
            raise InvalidValue("not a set of catalogue keys", value=",".join(songs)[:100])
        async with self._db.write() as db:
            await require_person(db, person)
            await db.execute(
                "INSERT INTO music_choices (person_id, mode, last_songs, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET"
                " last_songs = excluded.last_songs, updated_at = excluded.updated_at",
                (person.id, DEFAULT_MODE, ",".join(songs), clock.time()),
            )

"""Donated audio as rows of `note_audio` (PostgreSQL), one per note, beside the note's own row.

With VOICEMOOD_DATABASE_URL on PostgreSQL, bot replicas on different machines share nothing but
the database and Redis, so a folder on one machine cannot hold what every replica must read and
delete. The bytes are written in the note's own transaction (ON CONFLICT: a note analysed again
replaces them), so a note and its audio commit together or not at all, and deleting the note
deletes them (the foreign key cascades: "forget me"); /donate off deletes a person's rows in the
transaction that ends the grant. The note still names its audio by `audio_path` (the relative
name a file would have), so "is audio kept" reads one column on both engines. SQLite keeps files
(storage/audio_files.py) and leaves this table empty.
"""

from __future__ import annotations

from storage.backends import Transaction
from storage.db import Db

_KEEP_SQL = (
    "INSERT INTO note_audio (note_id, data) VALUES (?, ?)"
    " ON CONFLICT (note_id) DO UPDATE SET data = excluded.data"
)
# A person's rows, as /donate off and "forget me" delete them.
DELETE_PERSON_SQL = (
    "DELETE FROM note_audio WHERE note_id IN (SELECT id FROM notes WHERE person_id = :person)"
)


async def keep(db: Transaction, note_id: int, data: bytes) -> None:
    """Keep `data` as the note's audio, inside the note's transaction."""
    await db.execute(_KEEP_SQL, (note_id, data))


async def read(db: Db, note_id: int) -> bytes | None:
    row = await db.read_one("SELECT data FROM note_audio WHERE note_id = ?", (note_id,))
    return bytes(row["data"]) if row is not None else None


async def delete_person(db: Transaction, person_id: int) -> int:
    """Delete the person's kept audio; returns how many notes' audio it was."""
    return await db.execute(DELETE_PERSON_SQL, {"person": person_id})

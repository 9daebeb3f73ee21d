"""Analysed notes and the donated audio kept with them: files on SQLite (storage/audio_files.py),
rows on PostgreSQL (storage/audio_rows.py), so replicas sharing a database need no shared folder.

Reached as `store.notes`. A note is stored only while its speaker may be analysed in its chat,
checked by the statement that stores it (consent.MAY_STORE_SQL), and its audio is kept only
while the speaker's donation is in force. Storing a note is row-safe (storage.db): the note's
unique key (chat, message) with ON CONFLICT and the audio row's own key keep two replicas
storing notes at once correct, so on PostgreSQL they do it side by side.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from storage import audio_files, audio_rows, consent, people, rows, values
from storage.backends import Row
from storage.db import Db
from storage.errors import ChatNotFound, NotConsented, NoteNotFound, PersonNotFound
from storage.models import Chat, Person, StoredNote

log = logging.getLogger(__name__)

_NOTES = f"SELECT {rows.NOTE_COLUMNS} FROM notes n JOIN persons p ON p.id = n.person_id"
# A chat's notes, newest first, by the (chat_id, created_at) index.
# :since may be -inf; :limit NO_LIMIT for all of them (SQLite's -1 is an error in PostgreSQL).
NO_LIMIT = 2**63 - 1
CHAT_NOTES_SQL = f"""
    {_NOTES}
    WHERE n.chat_id = :chat AND n.created_at >= :since
    ORDER BY n.created_at DESC, n.id DESC LIMIT :limit
"""
# The person's notes, oldest first; :since may be -inf.
_PERSON_NOTES_SQL = f"""
    {_NOTES}
    WHERE n.person_id = :person AND n.created_at >= :since
    ORDER BY n.created_at, n.id
"""
# The note stored only where its speaker may be analysed (consent.MAY_STORE_SQL, over the chat c
# and its settings s), in one statement with the check and whether their audio may be kept: on
# PostgreSQL the check was a trip to the server of its own. Analysing the same message again
# replaces the answer, only for the same speaker. No row back: refused (see NoteStore.add).
_STORE_NOTE_SQL = f"""
    INSERT INTO notes (person_id, chat_id, platform_message_id, created_at, duration_s, model,
                       label, confidence, probabilities, answer_text)
    SELECT :person, c.id, :message, :created, :duration, :model, :label, :confidence, :probs,
           :answer
    FROM chats c LEFT JOIN chat_settings s ON s.chat_id = c.id
    WHERE c.id = :chat AND {consent.MAY_STORE_SQL}
    ON CONFLICT (chat_id, platform_message_id) DO UPDATE SET
        created_at = excluded.created_at, duration_s = excluded.duration_s,
        model = excluded.model, label = excluded.label,
        confidence = excluded.confidence, probabilities = excluded.probabilities,
        answer_text = excluded.answer_text
    WHERE notes.person_id = excluded.person_id
    RETURNING id, audio_path, reply_message_id, {consent.DONATING_SQL} AS donate
"""
# PostgreSQL: the same statement behind the write lock (shared) in one trip, a function of the
# schema's (storage.migrations_postgres, step 15) instead of BEGIN and the lock, it, COMMIT. It
# stores nothing when the note's audio would be kept (:has_audio and a donation in force).
_STORE_NOTE_CALL_SQL = """
    SELECT note_id AS id, note_audio_path AS audio_path, note_reply_message_id AS reply_message_id
    FROM voicemood_store_note(:person, :chat, :message, :created, :duration, :model, :label,
                              :confidence, :probs, :answer, :has_audio)
"""


class NoteStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(
        self,
        person: Person,
        chat: Chat,
        *,
        message_id: str | int,
        duration_s: float,
        model: str,
        label: str,
        confidence: float,
        probabilities: Mapping[str, float],
        at: datetime | None = None,
        audio: bytes | None = None,
        audio_suffix: str = "ogg",
        answer_text: str | None = None,
    ) -> StoredNote:
        """Store an analysis; `audio` is kept only if its speaker's donation is in force.

        Raises NotConsented when the person may not be analysed in this chat. Analysing the same
        message again replaces the answer and keeps the note's id and votes.
        """
        message = values.platform_id(message_id, "message id")
        label = self._db.label(label)
        probs = self._db.probabilities(probabilities)
        values.check_number(duration_s, "duration_s", 0.0, math.inf)
        values.check_number(confidence, "confidence", 0.0, 1.0)
        created = values.timestamp(at)
        params = {
            "person": person.id,
            "chat": chat.id,
            "message": message,
            "created": created,
            "duration": duration_s,
            "model": model,
            "label": label,
            "confidence": confidence,
            "probs": probs,
            "answer": answer_text,
        }
        unclaimed = chat.kind == "private" and chat.owner_id is None
        if self._db.dialect == "postgres" and not unclaimed:
            # A known chat's note, its audio not to be kept: one trip. Otherwise (a donor's
            # audio, a refusal to explain) nothing was stored, and the transaction below does it.
            found = await self._db.backend.fetch_alone(
                _STORE_NOTE_CALL_SQL, {**params, "has_audio": audio is not None}
            )
            if found:
                return _stored(person, chat, params, found[0]["audio_path"], found[0])
        written: list[str] = []  # audio files written here that no committed row names yet
        # SQLite: under the lock, so a failed note's file is gone before a later note takes its
        # id. PostgreSQL: row-safe, the audio a row in the same transaction, ids never reused.
        async with (
            self._db.holding(row_safe=True),
            self._discarding(written),
            self._db.backend.transaction(row_safe=True) as db,
        ):
            if unclaimed:
                _check(await consent.permissions(db, person, chat), person, chat)
                await people.claim_private_chat(db, chat.id, person)
            row = await db.fetchone(_STORE_NOTE_SQL, params)
            if row is None:  # refused: say why, as the steps before the one statement did
                _check(await consent.permissions(db, person, chat), person, chat)
                raise ValueError(f"message {message} in chat {chat.id} belongs to someone else")
            note_id, audio_path = int(row["id"]), row["audio_path"]
            if audio is not None and row["donate"]:
                audio_path = audio_files.audio_relpath(
                    person.platform, person.id, note_id, audio_suffix
                )
                if self._db.dialect == "postgres":
                    await audio_rows.keep(db, note_id, audio)
                else:
                    if audio_path != row["audio_path"]:
                        written.append(audio_path)
                    # Written before the row names it and before the commit: a crash leaves
                    # either no row or a row whose file is complete (an unnamed file is swept).
                    await asyncio.to_thread(
                        audio_files.write_atomically, self._db.data_dir, audio_path, audio
                    )
                await db.execute(
                    "UPDATE notes SET audio_path = ? WHERE id = ?", (audio_path, note_id)
                )
        return _stored(person, chat, params, audio_path, row)

    async def get(self, note_id: int) -> StoredNote:
        row = await self._db.read_one(f"{_NOTES} WHERE n.id = ?", (note_id,))
        if row is None:
            raise NoteNotFound("That voice note is no longer stored.", note_id=note_id)
        return rows.note(row)

    async def find(self, chat: Chat, message_id: str | int) -> StoredNote | None:
        """The note analysed from this platform message, if any."""
        row = await self._db.read_one(
            f"{_NOTES} WHERE n.chat_id = ? AND n.platform_message_id = ?",
            (chat.id, values.platform_id(message_id, "message id")),
        )
        return rows.note(row) if row is not None else None

    async def set_reply_message(self, note_id: int, reply_message_id: str | int) -> None:
        """Link the bot's answer message to its note (see find_by_reply)."""
        reply = values.platform_id(reply_message_id, "reply message id")
        changed = await self._db.write_one(
            "UPDATE notes SET reply_message_id = ? WHERE id = ?", (reply, note_id)
        )
        if changed == 0:
            raise NoteNotFound("That voice note is no longer stored.", note_id=note_id)

    async def find_by_reply(self, chat: Chat, reply_message_id: str | int) -> StoredNote | None:
        """The note whose answer is this message of the bot's, if any."""
        row = await self._db.read_one(
            f"{_NOTES} WHERE n.chat_id = ? AND n.reply_message_id = ?",
            (chat.id, values.platform_id(reply_message_id, "reply message id")),
        )
        return rows.note(row) if row is not None else None

    async def count_kept_audio(self, person: Person) -> int:
        """How many of the person's notes have donated audio kept."""
        row = await self._db.read_one(
            "SELECT COUNT(*) FROM notes WHERE person_id = ? AND audio_path IS NOT NULL",
            (person.id,),
        )
        return int(row[0]) if row is not None else 0

    async def chat_notes(
        self, chat: Chat, *, since: datetime | None = None, last: int | None = None
    ) -> list[StoredNote]:
        """A chat's notes since a time and/or the last N of them, oldest first (for summaries)."""
        if last is not None and last < 0:
            raise ValueError("last must be >= 0")
        records = await self._db.read(
            CHAT_NOTES_SQL,
            {
                "chat": chat.id,
                "since": _since(since),
                "limit": NO_LIMIT if last is None else last,
            },
        )
        return [rows.note(row) for row in reversed(records)]

    async def person_notes(
        self, person: Person, *, since: datetime | None = None
    ) -> list[StoredNote]:
        """The person's own notes in every chat since a time, oldest first (for their history)."""
        records = await self._db.read(
            _PERSON_NOTES_SQL, {"person": person.id, "since": _since(since)}
        )
        return [rows.note(row) for row in records]

    def audio_file(self, note: StoredNote) -> Path | None:
        """Where a note's donated audio is on disk (None if none was kept, or on PostgreSQL,
        which keeps it in the database: read it with `audio`)."""
        if not note.audio_path or self._db.dialect == "postgres":
            return None
        return self._db.data_dir / note.audio_path

    async def audio(self, note: StoredNote) -> bytes | None:
        """A note's donated audio, from wherever this store keeps it (None if none is kept)."""
        return await self.read_audio(note.id, note.audio_path)

    async def read_audio(self, note_id: int, audio_path: str | None) -> bytes | None:
        """The audio a note (by id, and the `audio_path` it names) keeps, if any."""
        if not audio_path:
            return None
        if self._db.dialect == "postgres":
            return await audio_rows.read(self._db, note_id)
        path = self._db.data_dir / audio_path
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def sweep_audio(self) -> None:
        """Remove audio files no note names (left by a write a crash interrupted).

        On PostgreSQL, files this data folder still holds from before the audio moved into the
        database are moved into it first, then removed.
        """
        if self._db.dialect == "postgres":
            await self._adopt_files()
            keep: set[str] = set()
        else:
            records = await self._db.read(
                "SELECT audio_path FROM notes WHERE audio_path IS NOT NULL"
            )
            keep = {str(row["audio_path"]) for row in records}
        removed = await asyncio.to_thread(audio_files.sweep, self._db.data_dir, keep)
        if removed:
            log.info("removed %d audio files from %s", removed, self._db.data_dir)

    async def _adopt_files(self) -> None:
        """Copy into the database the files of notes that name audio it does not hold yet."""
        records = await self._db.read(
            "SELECT n.id, n.audio_path FROM notes n WHERE n.audio_path IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM note_audio a WHERE a.note_id = n.id)"
        )
        adopted = 0
        for row in records:
            path = self._db.data_dir / str(row["audio_path"])
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except FileNotFoundError:
                continue  # another replica's folder holds it; that replica adopts it
            async with self._db.write(row_safe=True) as db:
                # Only while the note still names this audio (its donor may have withdrawn).
                adopted += await db.execute(
                    "INSERT INTO note_audio (note_id, data) SELECT id, ? FROM notes"
                    " WHERE id = ? AND audio_path = ? ON CONFLICT (note_id) DO NOTHING",
                    (data, int(row["id"]), str(row["audio_path"])),
                )
        if adopted:
            log.info("moved %d donated audio files into the database", adopted)

    @asynccontextmanager
    async def _discarding(self, written: list[str]) -> AsyncIterator[None]:
        """Delete the audio files listed in `written` when the transaction inside fails."""
        try:
            yield
        except Exception:
            # Undone (a full disk, say), so no row names them. Not on cancellation, whose COMMIT
            # may still land; a file left then is swept at the next open.
            if written:
                await asyncio.to_thread(audio_files.remove_files, self._db.data_dir, written)
            raise


def _check(allowed: Row | None, person: Person, chat: Chat) -> None:
    """Raise the typed error for a note that may not be stored (consent.permissions' answer)."""
    if allowed is None:
        raise ChatNotFound("That chat is not known.", chat_id=chat.id)
    if not allowed["person_exists"]:
        raise PersonNotFound("That person is not known (any more).", person_id=person.id)
    if not consent.allows_analysis(allowed):
        raise NotConsented(
            "This person has not opted in to analysis in this chat.",
            person_id=person.id,
            chat_id=chat.id,
        )


def _stored(
    person: Person, chat: Chat, params: dict[str, Any], audio_path: str | None, row: Row
) -> StoredNote:
    """The note as NoteStore.add stored it (`params`: its statement's) and the row it returned."""
    return StoredNote(
        id=int(row["id"]),
        person=person,
        chat_id=chat.id,
        platform_message_id=params["message"],
        created_at=rows.to_datetime(params["created"]),
        duration_s=float(params["duration"]),
        model=params["model"],
        label=params["label"],
        confidence=float(params["confidence"]),
        probabilities=json.loads(params["probs"]),
        audio_path=audio_path,
        reply_message_id=row["reply_message_id"],
        answer_text=params["answer"],
    )


def _since(since: datetime | None) -> float:
    return -math.inf if since is None else values.timestamp(since)

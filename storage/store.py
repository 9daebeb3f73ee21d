"""The Store: people, chats, consent, notes and feedback, over SQLite (default) or PostgreSQL.

The rules are written once here, in SQL both engines read; storage.backends runs it. Every write
is one transaction behind an asyncio lock, so concurrent tasks never interleave inside one (and
the backend keeps other processes out: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock).
Reads see only committed data and never wait for the writer. Times are unix seconds in the
database and aware UTC datetimes outside.

Consent, as stored (see models.ConsentKind):
- a private chat with the bot is itself the request to analyse: no consent row is needed;
- in a group, a person's notes are analysed only while their "analyse" consent for that chat is
  in force and the chat has not switched analysis off;
- keeping audio needs "donate_audio", one global grant per person; withdrawing it deletes the
  audio already kept. Withdrawing "analyse" stops new analyses; past notes stay until "forget me".
- a voice baseline (running statistics of a person's embeddings and voice cues, never audio) is
  kept only under its own global grant (baseline_consents); withdrawing it deletes the statistics.
Each grant is a row (given_at, withdrawn_at), so the history stays readable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time as clock
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from storage import audio_files, person_data, queries, rows, values
from storage.backends import Backend, Row, Transaction, open_backend
from storage.errors import (
    ChatNotFound,
    InvalidLabel,
    InvalidValue,
    NotConsented,
    NoteNotFound,
    PersonNotFound,
)
from storage.models import (
    CHAT_KINDS,
    CONSENT_KINDS,
    Chat,
    ChatKind,
    ChatSettings,
    Consent,
    ConsentKind,
    DonatedClip,
    ForgetReport,
    Person,
    ScheduledDigest,
    StoredBaseline,
    StoredNote,
    Vote,
)
from storage.person_data import CueStatistics, PersonData
from storage.practice import PracticeStore

log = logging.getLogger(__name__)

_ANY_LABEL = re.compile(r"^[a-z][a-z_]{0,31}$")

# move_chat: a moved chat's notes keep their message ids, qualified by the chat they came from
# (a NULL reply id stays NULL).
_QUALIFY_MESSAGE_IDS_SQL = """
    UPDATE notes SET platform_message_id = CAST(:prefix AS TEXT) || ':' || platform_message_id,
                     reply_message_id = CAST(:prefix AS TEXT) || ':' || reply_message_id
    WHERE chat_id = :chat
"""
# move_chat folding chat :source into :target: a grant of :target still in force ends when the
# same person first decided again in :source, whose decisions are the later ones.
_END_GRANTS_DECIDED_AGAIN_SQL = """
    UPDATE consents AS c SET withdrawn_at = (
        SELECT CASE WHEN MIN(s.given_at) > c.given_at THEN MIN(s.given_at) ELSE c.given_at END
        FROM consents s
        WHERE s.chat_id = :source AND s.person_id = c.person_id AND s.kind = c.kind)
    WHERE c.chat_id = :target AND c.withdrawn_at IS NULL AND EXISTS (
        SELECT 1 FROM consents s
        WHERE s.chat_id = :source AND s.person_id = c.person_id AND s.kind = c.kind)
"""
_UPSERT_SETTINGS_SQL = """
    INSERT INTO chat_settings (chat_id, analysis, digest, digest_time, digest_channel, language,
                               transcript, updated_at)
    VALUES (:chat, :analysis, :digest, :digest_time, :digest_channel, :language, :transcript,
            :updated_at)
    ON CONFLICT (chat_id) DO UPDATE SET
        analysis = excluded.analysis, digest = excluded.digest,
        digest_time = excluded.digest_time, digest_channel = excluded.digest_channel,
        language = excluded.language, transcript = excluded.transcript,
        updated_at = excluded.updated_at
"""


class Store:
    """Persistence for people, chats, consent, notes, feedback, chat settings, voice baselines."""

    def __init__(self, backend: Backend, data_dir: Path, labels: frozenset[str] | None) -> None:
        """Use `await Store.open(...)`; this only wires an already opened backend."""
        self._backend = backend
        self.data_dir = data_dir
        self._labels = labels
        self._lock = asyncio.Lock()
        # Practice mode's sessions and scores (storage/practice.py), on the same connections.
        self.practice = PracticeStore(self)

    @classmethod
    async def open(
        cls, database: str | Path, data_dir: str | Path, *, labels: Iterable[str] | None = None
    ) -> Store:
        """Open (creating or upgrading in place) the database; `labels` limits notes and votes.

        `database` is a SQLite file's path or a `postgresql://` URL; donated audio lives in
        `data_dir` either way.
        """
        data = await asyncio.to_thread(_make_folder, Path(data_dir))
        backend = await open_backend(database)
        try:
            store = cls(backend, data, frozenset(labels) if labels is not None else None)
            await store._sweep_audio()
        except BaseException:
            await backend.close()
            raise
        return store

    async def close(self) -> None:
        async with self._lock:
            await self._backend.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # People and chats

    async def ensure_person(
        self, platform: str, platform_user_id: str | int, *, display_name: str | None = None
    ) -> Person:
        """The person with this platform id, created on first sight; a new display name is kept."""
        platform, user = values.platform(platform), values.platform_id(platform_user_id, "user id")
        name = values.display_name(display_name)
        found = await self.get_person(platform, user)
        if found is not None and (name is None or name == found.display_name):
            return found
        async with self._write() as db:
            await db.execute(
                "INSERT INTO persons (platform, platform_user_id, display_name, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (platform, platform_user_id) DO UPDATE SET"
                " display_name = COALESCE(excluded.display_name, persons.display_name)",
                (platform, user, name, clock.time()),
            )
            row = await db.fetchone(
                f"SELECT {rows.PERSON_COLUMNS} FROM persons p"
                " WHERE p.platform = ? AND p.platform_user_id = ?",
                (platform, user),
            )
        assert row is not None
        return rows.person(row)

    async def get_person(self, platform: str, platform_user_id: str | int) -> Person | None:
        row = await self._read_one(
            f"SELECT {rows.PERSON_COLUMNS} FROM persons p"
            " WHERE p.platform = ? AND p.platform_user_id = ?",
            (values.platform(platform), values.platform_id(platform_user_id, "user id")),
        )
        return rows.person(row) if row is not None else None

    async def set_language(self, person: Person, language: str | None) -> Person:
        """Remember the language a person wants replies in (None: follow the chat)."""
        language = values.language(language)
        async with self._write() as db:
            changed = await db.execute(
                "UPDATE persons SET language = ? WHERE id = ?", (language, person.id)
            )
            if changed == 0:
                raise PersonNotFound("That person is not known (any more).", person_id=person.id)
        return replace(person, language=language)

    async def ensure_chat(
        self,
        platform: str,
        platform_chat_id: str | int,
        kind: ChatKind,
        *,
        owner: Person | None = None,
    ) -> Chat:
        """The chat with this platform id, created on first sight; `owner` only for private chats.

        A private chat belongs to its one human, so "forget me" deletes it (its id is often theirs).
        """
        platform, chat_id = (
            values.platform(platform),
            values.platform_id(platform_chat_id, "chat id"),
        )
        if kind not in CHAT_KINDS:
            raise ValueError(f"chat kind must be one of {CHAT_KINDS}, not {kind!r}")
        if owner is not None and kind != "private":
            raise ValueError("only a private chat has an owner")
        found = await self._find_chat(platform, chat_id)
        if found is not None and (owner is None or found.owner_id is not None):
            return _same_kind(found, kind)
        async with self._write() as db:
            await db.execute(
                "INSERT INTO chats (platform, platform_chat_id, kind, owner_id, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (platform, chat_id, kind, owner.id if owner else None, clock.time()),
            )
            if owner is not None:
                await db.execute(
                    "UPDATE chats SET owner_id = ? WHERE platform = ? AND platform_chat_id = ?"
                    " AND kind = 'private' AND owner_id IS NULL",
                    (owner.id, platform, chat_id),
                )
            row = await db.fetchone(
                f"SELECT {rows.CHAT_COLUMNS} FROM chats c WHERE c.platform = ? AND c.platform_chat_id = ?",
                (platform, chat_id),
            )
        assert row is not None
        return _same_kind(rows.chat(row), kind)

    async def get_chat(self, chat_id: int) -> Chat:
        row = await self._read_one(
            f"SELECT {rows.CHAT_COLUMNS} FROM chats c WHERE c.id = ?", (chat_id,)
        )
        if row is None:
            raise ChatNotFound("That chat is not known.", chat_id=chat_id)
        return rows.chat(row)

    async def find_chat(self, platform: str, platform_chat_id: str | int) -> Chat | None:
        """The chat with this platform id, if known (never creates one)."""
        return await self._find_chat(
            values.platform(platform), values.platform_id(platform_chat_id, "chat id")
        )

    async def move_chat(
        self, platform: str, old_platform_chat_id: str | int, new_platform_chat_id: str | int
    ) -> bool:
        """Give a chat a new platform id (a Telegram group upgraded to a supergroup); True if moved.

        The chat keeps its own id, so its consent, notes, votes and settings stay with it. Its
        notes' message ids become `<old chat id>:<message id>`: the new chat numbers its messages
        afresh, and a new message must never land on an old note. If the new id is already known
        (something from it arrived first), that chat is folded in: its notes move over; per person,
        its consent decisions are the later ones and hold (an older grant still in force ends at
        the first of them); its settings win where they differ from the defaults, except that
        analysis stays off if either chat switched it off. False when the old id is unknown.
        """
        platform = values.platform(platform)
        old_id = values.platform_id(old_platform_chat_id, "chat id")
        new_id = values.platform_id(new_platform_chat_id, "chat id")
        if old_id == new_id:
            return False
        async with self._write() as db:
            # Read inside the transaction: both of Telegram's migration messages may race here.
            old = await _chat_row(db, platform, old_id)
            if old is None:
                return False
            new = await _chat_row(db, platform, new_id)
            if new is not None and new.kind != old.kind:
                raise ValueError(f"cannot merge a {old.kind} chat into a {new.kind} chat")
            await db.execute(_QUALIFY_MESSAGE_IDS_SQL, {"chat": old.id, "prefix": old_id})
            if new is not None:
                await _fold_chat_into(db, new.id, old.id)
            await db.execute("UPDATE chats SET platform_chat_id = ? WHERE id = ?", (new_id, old.id))
        return True

    async def _find_chat(self, platform: str, platform_chat_id: str) -> Chat | None:
        row = await self._read_one(_CHAT_BY_PLATFORM_ID_SQL, (platform, platform_chat_id))
        return rows.chat(row) if row is not None else None

    # Consent

    async def give_consent(
        self,
        person: Person,
        kind: ConsentKind,
        chat: Chat | None = None,
        *,
        at: datetime | None = None,
    ) -> Consent:
        """Record a grant ("analyse" needs the group chat, "donate_audio" none); idempotent."""
        chat_id = _consent_scope(kind, chat)
        async with self._write() as db:
            await _require_person(db, person)
            existing = await db.fetchone(
                "SELECT * FROM consents WHERE person_id = ? AND kind = ? AND COALESCE(chat_id, 0) = ?"
                " AND withdrawn_at IS NULL",
                (person.id, kind, chat_id or 0),
            )
            if existing is not None:
                return rows.consent(existing)
            row = await db.fetchone(
                "INSERT INTO consents (person_id, kind, chat_id, given_at) VALUES (?, ?, ?, ?)"
                " RETURNING *",
                (person.id, kind, chat_id, values.timestamp(at)),
            )
        assert row is not None
        return rows.consent(row)

    async def withdraw_consent(
        self,
        person: Person,
        kind: ConsentKind,
        chat: Chat | None = None,
        *,
        at: datetime | None = None,
    ) -> Consent | None:
        """End a grant (None if none was in force); ending "donate_audio" deletes the kept audio."""
        chat_id = _consent_scope(kind, chat)
        async with self._lock:
            async with self._backend.transaction() as db:
                row = await db.fetchone(
                    "UPDATE consents SET withdrawn_at = ? WHERE person_id = ? AND kind = ?"
                    " AND COALESCE(chat_id, 0) = ? AND withdrawn_at IS NULL RETURNING *",
                    (values.timestamp(at), person.id, kind, chat_id or 0),
                )
                if kind == "donate_audio":
                    await db.execute(
                        "UPDATE notes SET audio_path = NULL"
                        " WHERE person_id = ? AND audio_path IS NOT NULL",
                        (person.id,),
                    )
            if kind == "donate_audio":
                # After the commit: a crash in between leaves files no row names, swept at open.
                await asyncio.to_thread(
                    audio_files.remove_person_folder, self.data_dir, person.platform, person.id
                )
        return rows.consent(row) if row is not None else None

    async def consents(self, person: Person) -> list[Consent]:
        """Every grant the person made, oldest first, withdrawn ones included."""
        records = await self._read(
            "SELECT * FROM consents WHERE person_id = ? ORDER BY given_at, id", (person.id,)
        )
        return [rows.consent(row) for row in records]

    async def may_analyse(self, person: Person, chat: Chat) -> bool:
        """Private chat: yes. Group: only after the person opted in and while the chat allows it."""
        row = await self._read_one(queries.PERMISSIONS_SQL, {"person": person.id, "chat": chat.id})
        return row is not None and bool(row["person_exists"]) and _allows_analysis(row)

    async def may_keep_audio(self, person: Person) -> bool:
        """Whether the person's "donate_audio" grant is in force."""
        row = await self._read_one(
            "SELECT 1 FROM consents WHERE person_id = ? AND kind = 'donate_audio'"
            " AND withdrawn_at IS NULL",
            (person.id,),
        )
        return row is not None

    # Voice baseline: its own grant, and running statistics that exist only under it

    async def give_baseline_consent(
        self, person: Person, *, at: datetime | None = None
    ) -> datetime:
        """Let the person's voice statistics be kept; idempotent, returns when it was given."""
        async with self._write() as db:
            await _require_person(db, person)
            await db.execute(
                "INSERT INTO baseline_consents (person_id, given_at) VALUES (?, ?)"
                " ON CONFLICT (person_id) DO NOTHING",
                (person.id, values.timestamp(at)),
            )
            row = await db.fetchone(
                "SELECT given_at FROM baseline_consents WHERE person_id = ?", (person.id,)
            )
        assert row is not None
        return rows.to_datetime(row["given_at"])

    async def withdraw_baseline_consent(self, person: Person) -> bool:
        """End the grant and delete the statistics with it; True if it was in force."""
        async with self._write() as db:
            # The statistics go by the cascade (SQLite zeroes deleted rows: secure_delete).
            changed = await db.execute(
                "DELETE FROM baseline_consents WHERE person_id = ?", (person.id,)
            )
            return changed > 0

    async def baseline_consent(self, person: Person) -> datetime | None:
        """When the person switched their baseline on (None while it is off)."""
        row = await self._read_one(
            "SELECT given_at FROM baseline_consents WHERE person_id = ?", (person.id,)
        )
        return rows.to_datetime(row["given_at"]) if row is not None else None

    async def baseline(self, person: Person, encoder: str) -> StoredBaseline | None:
        """The person's statistics built by `encoder`; one built by another is never handed out."""
        row = await self._read_one(
            "SELECT * FROM baselines WHERE person_id = ? AND encoder = ?", (person.id, encoder)
        )
        return rows.baseline(row) if row is not None else None

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
        async with self._write() as db:
            if (
                await db.fetchone(
                    "SELECT 1 FROM baseline_consents WHERE person_id = ?", (person.id,)
                )
                is None
            ):
                raise NotConsented(
                    "This person has not switched their voice baseline on.", person_id=person.id
                )
            row = await db.fetchone(
                "SELECT * FROM baselines WHERE person_id = ? AND encoder = ?",
                (person.id, encoder),
            )
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

    async def cue_baseline(self, person: Person) -> bytes | None:
        """The person's voice-cue statistics (opaque: inference.cues.CueBaseline's bytes)."""
        row = await self._read_one(
            "SELECT stats FROM cue_baselines WHERE person_id = ?", (person.id,)
        )
        return bytes(row["stats"]) if row is not None else None

    async def update_cue_baseline(
        self, person: Person, update: Callable[[bytes | None], bytes]
    ) -> bytes:
        """Replace the cue statistics with `update(current)` in one transaction.

        Raises NotConsented while the baseline grant is not in force, as update_baseline does.
        """
        async with self._write() as db:
            if (
                await db.fetchone(
                    "SELECT 1 FROM baseline_consents WHERE person_id = ?", (person.id,)
                )
                is None
            ):
                raise NotConsented(
                    "This person has not switched their voice baseline on.", person_id=person.id
                )
            row = await db.fetchone(
                "SELECT stats FROM cue_baselines WHERE person_id = ?", (person.id,)
            )
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

    # Transcript: a person's own choice to see their words (the words are never stored)

    async def set_transcript(self, person: Person, on: bool) -> None:
        """Switch the person's transcript on or off; idempotent."""
        async with self._write() as db:
            await _require_person(db, person)
            if on:
                await db.execute(
                    "INSERT INTO transcript_choices (person_id, given_at) VALUES (?, ?)"
                    " ON CONFLICT (person_id) DO NOTHING",
                    (person.id, clock.time()),
                )
            else:
                await db.execute("DELETE FROM transcript_choices WHERE person_id = ?", (person.id,))

    async def transcript_on(self, person: Person) -> bool:
        row = await self._read_one(
            "SELECT 1 FROM transcript_choices WHERE person_id = ?", (person.id,)
        )
        return row is not None

    # Chat settings

    async def chat_settings(self, chat: Chat) -> ChatSettings:
        row = await self._read_one("SELECT * FROM chat_settings WHERE chat_id = ?", (chat.id,))
        return rows.settings(row) if row is not None else ChatSettings()

    async def set_chat_settings(self, chat: Chat, settings: ChatSettings) -> ChatSettings:
        """Replace the chat's settings (read, `dataclasses.replace`, write back)."""
        checked = replace(settings, language=values.language(settings.language))
        params = _settings_params(chat.id, checked, clock.time())
        async with self._write() as db:
            await db.execute(_UPSERT_SETTINGS_SQL, params)
        return checked

    async def scheduled_digests(self) -> list[ScheduledDigest]:
        """Chats with the daily digest switched on, for the scheduler."""
        records = await self._read(
            f"SELECT {rows.CHAT_COLUMNS}, s.* FROM chat_settings s JOIN chats c ON c.id = s.chat_id"
            " WHERE s.digest = 1 ORDER BY c.id"
        )
        return [ScheduledDigest(rows.chat(row), rows.settings(row)) for row in records]

    async def claim_digest(self, chat: Chat, day: date) -> bool:
        """Claim the chat's digest of `day` for posting; True for exactly one caller per day.

        One conditional UPDATE, so two schedulers (or a restarted process) cannot both win it.
        False too when the digest is switched off or a later day was already claimed.
        """
        async with self._write() as db:
            changed = await db.execute(
                "UPDATE chat_settings SET digest_sent_on = :day"
                " WHERE chat_id = :chat AND digest = 1"
                " AND (digest_sent_on IS NULL OR digest_sent_on < :day)",
                {"chat": chat.id, "day": day.isoformat()},
            )
            return changed == 1

    # Notes

    async def add_note(
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
        label = self._label(label)
        probs = self._probabilities(probabilities)
        values.check_number(duration_s, "duration_s", 0.0, math.inf)
        values.check_number(confidence, "confidence", 0.0, 1.0)
        created = values.timestamp(at)
        written: list[str] = []  # audio files written here that no committed row names yet
        # Under the lock, so a failed note's file is gone before a later note takes its id.
        async with self._lock, self._discarding(written), self._backend.transaction() as db:
            allowed = await db.fetchone(
                queries.PERMISSIONS_SQL, {"person": person.id, "chat": chat.id}
            )
            if allowed is None:
                raise ChatNotFound("That chat is not known.", chat_id=chat.id)
            if not allowed["person_exists"]:
                raise PersonNotFound("That person is not known (any more).", person_id=person.id)
            if not _allows_analysis(allowed):
                raise NotConsented(
                    "This person has not opted in to analysis in this chat.",
                    person_id=person.id,
                    chat_id=chat.id,
                )
            if chat.kind == "private" and chat.owner_id is None:
                await db.execute(
                    "UPDATE chats SET owner_id = ? WHERE id = ? AND owner_id IS NULL",
                    (person.id, chat.id),
                )
            row = await db.fetchone(
                "INSERT INTO notes (person_id, chat_id, platform_message_id, created_at,"
                " duration_s, model, label, confidence, probabilities, answer_text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (chat_id, platform_message_id) DO UPDATE SET"
                " created_at = excluded.created_at, duration_s = excluded.duration_s,"
                " model = excluded.model, label = excluded.label,"
                " confidence = excluded.confidence, probabilities = excluded.probabilities,"
                " answer_text = excluded.answer_text"
                " WHERE notes.person_id = excluded.person_id"
                " RETURNING id, audio_path, reply_message_id",
                (
                    person.id,
                    chat.id,
                    message,
                    created,
                    duration_s,
                    model,
                    label,
                    confidence,
                    probs,
                    answer_text,
                ),
            )
            if row is None:
                raise ValueError(f"message {message} in chat {chat.id} belongs to someone else")
            note_id, audio_path = int(row["id"]), row["audio_path"]
            if audio is not None and allowed["donate"]:
                audio_path = audio_files.audio_relpath(
                    person.platform, person.id, note_id, audio_suffix
                )
                if audio_path != row["audio_path"]:
                    written.append(audio_path)
                # Written before the row names it and before the commit: a crash leaves either
                # no row or a row whose file is complete (an unnamed file is swept at open).
                await asyncio.to_thread(
                    audio_files.write_atomically, self.data_dir, audio_path, audio
                )
                await db.execute(
                    "UPDATE notes SET audio_path = ? WHERE id = ?", (audio_path, note_id)
                )
        return StoredNote(
            id=note_id,
            person=person,
            chat_id=chat.id,
            platform_message_id=message,
            created_at=rows.to_datetime(created),
            duration_s=float(duration_s),
            model=model,
            label=label,
            confidence=float(confidence),
            probabilities=json.loads(probs),
            audio_path=audio_path,
            reply_message_id=row["reply_message_id"],
            answer_text=answer_text,
        )

    async def get_note(self, note_id: int) -> StoredNote:
        row = await self._read_one(
            f"SELECT {rows.NOTE_COLUMNS} FROM notes n JOIN persons p ON p.id = n.person_id"
            " WHERE n.id = ?",
            (note_id,),
        )
        if row is None:
            raise NoteNotFound("That voice note is no longer stored.", note_id=note_id)
        return rows.note(row)

    async def find_note(self, chat: Chat, message_id: str | int) -> StoredNote | None:
        """The note analysed from this platform message, if any."""
        row = await self._read_one(
            f"SELECT {rows.NOTE_COLUMNS} FROM notes n JOIN persons p ON p.id = n.person_id"
            " WHERE n.chat_id = ? AND n.platform_message_id = ?",
            (chat.id, values.platform_id(message_id, "message id")),
        )
        return rows.note(row) if row is not None else None

    async def set_reply_message(self, note_id: int, reply_message_id: str | int) -> None:
        """Link the bot's answer message to its note (see find_note_by_reply)."""
        reply = values.platform_id(reply_message_id, "reply message id")
        async with self._write() as db:
            changed = await db.execute(
                "UPDATE notes SET reply_message_id = ? WHERE id = ?", (reply, note_id)
            )
            if changed == 0:
                raise NoteNotFound("That voice note is no longer stored.", note_id=note_id)

    async def find_note_by_reply(
        self, chat: Chat, reply_message_id: str | int
    ) -> StoredNote | None:
        """The note whose answer is this message of the bot's, if any."""
        row = await self._read_one(
            f"SELECT {rows.NOTE_COLUMNS} FROM notes n JOIN persons p ON p.id = n.person_id"
            " WHERE n.chat_id = ? AND n.reply_message_id = ?",
            (chat.id, values.platform_id(reply_message_id, "reply message id")),
        )
        return rows.note(row) if row is not None else None

    async def count_kept_audio(self, person: Person) -> int:
        """How many of the person's notes have donated audio kept."""
        row = await self._read_one(
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
        records = await self._read(
            queries.CHAT_NOTES_SQL,
            {
                "chat": chat.id,
                "since": -math.inf if since is None else values.timestamp(since),
                "limit": queries.NO_LIMIT if last is None else last,
            },
        )
        return [rows.note(row) for row in reversed(records)]

    def audio_file(self, note: StoredNote) -> Path | None:
        """Where a note's donated audio is on disk (None if none was kept)."""
        return self.data_dir / note.audio_path if note.audio_path else None

    # Feedback

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
        label = self._label(label)
        if intensity is not None and not (
            isinstance(intensity, int | float) and 0.0 <= intensity <= 1.0
        ):
            raise InvalidValue("Intensity must be between 0 and 1.", intensity=intensity)
        created = values.timestamp(at)
        async with self._write() as db:
            if await db.fetchone("SELECT 1 FROM notes WHERE id = ?", (note_id,)) is None:
                raise NoteNotFound("That voice note is no longer stored.", note_id=note_id)
            await _require_person(db, voter)
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
            label = self._label(label)
        async with self._write() as db:
            changed = await db.execute(
                "DELETE FROM votes WHERE note_id = :note AND voter_id = :voter"
                " AND (CAST(:label AS TEXT) IS NULL OR label = :label)",
                {"note": note_id, "voter": voter.id, "label": label},
            )
            return changed > 0

    async def votes(self, note_id: int) -> list[Vote]:
        records = await self._read(
            "SELECT * FROM votes WHERE note_id = ? ORDER BY created_at, id", (note_id,)
        )
        return [rows.vote(row) for row in records]

    async def final_label(self, note_id: int) -> str | None:
        """The label the votes settled on (None without votes; the model's answer is no vote)."""
        return (await self.final_labels([note_id])).get(note_id)

    async def final_labels(self, note_ids: Iterable[int]) -> dict[int, str]:
        """Final labels of the notes that have votes, by note id."""
        records = await self._read(
            queries.FINAL_LABELS_SQL[self._backend.dialect],
            {"notes": json.dumps([int(i) for i in note_ids])},
        )
        return {int(row["note_id"]): str(row["label"]) for row in records}

    async def donated_clips(self) -> AsyncIterator[DonatedClip]:
        """Donated audio that has a final label, for retraining (streamed, oldest first)."""
        async for row in self._backend.stream(queries.DONATED_CLIPS_SQL):
            yield DonatedClip(
                note_id=int(row["note_id"]),
                speaker=f"{row['platform']}:{row['person_id']}",
                label=str(row["label"]),
                audio=self.data_dir / str(row["audio_path"]),
            )

    # A person's own words for labels

    async def label_words(self, person: Person) -> dict[str, str]:
        """The person's own words for labels (label -> word); empty when they chose none."""
        records = await self._read(person_data.WORDS_SQL, {"person": person.id})
        return {str(row["label"]): str(row["word"]) for row in records}

    async def set_label_word(self, person: Person, label: str, word: str) -> str:
        """Call `label` `word` for this person from now on; returns the word as kept."""
        label, word = self._label(label), values.label_word(word)
        async with self._write() as db:
            await _require_person(db, person)
            await db.execute(
                "INSERT INTO label_words (person_id, label, word, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (person_id, label) DO UPDATE SET"
                " word = excluded.word, updated_at = excluded.updated_at",
                (person.id, label, word, clock.time()),
            )
        return word

    async def reset_label_words(self, person: Person) -> int:
        """Forget the person's words (back to the usual names); how many there were."""
        async with self._write() as db:
            changed = await db.execute("DELETE FROM label_words WHERE person_id = ?", (person.id,))
            return changed

    # A person's own data

    async def person_notes(
        self, person: Person, *, since: datetime | None = None
    ) -> list[StoredNote]:
        """The person's own notes in every chat since a time, oldest first (for their history)."""
        params = {
            "person": person.id,
            "since": -math.inf if since is None else values.timestamp(since),
        }
        return [rows.note(row) for row in await self._read(person_data.PERSON_NOTES_SQL, params)]

    async def person_data(self, person: Person) -> PersonData:
        """Everything stored about the person, from every table keyed by them (for /export)."""
        who = {"person": person.id}
        notes = await self.person_notes(person)
        chats = [rows.chat(r) for r in await self._read(person_data.PERSON_CHATS_SQL, who)]
        votes = [rows.vote(r) for r in await self._read(person_data.VOTES_CAST_SQL, who)]
        consents = [rows.consent(r) for r in await self._read(person_data.CONSENTS_SQL, who)]
        grant = await self._read_one(person_data.BASELINE_GRANT_SQL, who)
        baselines = [rows.baseline(r) for r in await self._read(person_data.BASELINES_SQL, who)]
        cues = await self._read_one(person_data.CUE_BASELINE_SQL, who)
        transcript = await self._read_one(person_data.TRANSCRIPT_SQL, who)
        return PersonData(
            person=person,
            chats=chats,
            notes=notes,
            votes_cast=votes,
            consents=consents,
            baseline_granted_at=rows.to_datetime(grant["given_at"]) if grant else None,
            baselines=baselines,
            cue_statistics=(
                CueStatistics(bytes(cues["stats"]), rows.to_datetime(cues["updated_at"]))
                if cues
                else None
            ),
            words=await self.label_words(person),
            transcript_on_since=rows.to_datetime(transcript["given_at"]) if transcript else None,
            practice_scores=await self.practice.scores(person),
            practice_session=await self.practice.session(person),
        )

    # Forget me

    async def forget_person(self, platform: str, platform_user_id: str | int) -> ForgetReport:
        """Delete everything the person owns, in every chat: notes, votes, consent, audio, chats,
        voice baseline.

        Other people's votes on the person's notes go with the notes; their other votes stay.
        """
        platform, user = values.platform(platform), values.platform_id(platform_user_id, "user id")
        async with self._lock:
            async with self._backend.transaction() as db:
                row = await db.fetchone(
                    "SELECT id FROM persons WHERE platform = ? AND platform_user_id = ?",
                    (platform, user),
                )
                if row is None:
                    return ForgetReport(found=False)
                person_id = int(row["id"])
                counts = {}
                for name, sql in queries.FORGET_STEPS:
                    changed = await db.execute(sql, {"person": person_id})
                    counts[name] = changed
            files = await asyncio.to_thread(
                audio_files.remove_person_folder, self.data_dir, platform, person_id
            )
            await self._backend.after_forget()
        return ForgetReport(
            found=True,
            notes=counts["notes"],
            votes_cast=counts["votes_cast"],
            votes_on_their_notes=counts["votes_on_their_notes"],
            consents=counts["consents"],
            chats=counts["chats"],
            audio_files=files,
            baselines=counts["baselines"],
        )

    # Plumbing

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Transaction]:
        """The write lock and one transaction around it."""
        async with self._lock, self._backend.transaction() as db:
            yield db

    @asynccontextmanager
    async def _discarding(self, written: list[str]) -> AsyncIterator[None]:
        """Delete the audio files listed in `written` when the transaction inside fails."""
        try:
            yield
        except Exception:
            # Undone (a full disk, say), so no row names them. Not on cancellation, whose COMMIT
            # may still land; a file left then is swept at the next open.
            if written:
                await asyncio.to_thread(audio_files.remove_files, self.data_dir, written)
            raise

    async def _sweep_audio(self) -> None:
        records = await self._read("SELECT audio_path FROM notes WHERE audio_path IS NOT NULL")
        keep = {str(row["audio_path"]) for row in records}
        removed = await asyncio.to_thread(audio_files.sweep, self.data_dir, keep)
        if removed:
            log.info("removed %d audio files no note names (left by an interrupted write)", removed)

    async def _read(self, sql: str, params: Any = ()) -> list[Row]:
        return await self._backend.read(sql, params)

    async def _read_one(self, sql: str, params: Any = ()) -> Row | None:
        records = await self._read(sql, params)
        return records[0] if records else None

    def _label(self, label: str) -> str:
        known = label in self._labels if self._labels is not None else _ANY_LABEL.match(label)
        if not known:
            raise InvalidLabel(f"{label!r} is not a label VoiceMood knows.", label=label)
        return label

    def _probabilities(self, probabilities: Mapping[str, float]) -> str:
        for label, p in probabilities.items():
            self._label(label)
            values.check_number(p, f"probability of {label}", 0.0, 1.0)
        return json.dumps({str(k): float(v) for k, v in probabilities.items()}, allow_nan=False)


def _make_folder(data_dir: Path) -> Path:
    """Create the data folder; returns it made absolute, so stored paths resolve anywhere."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir.resolve()


_CHAT_BY_PLATFORM_ID_SQL = (
    f"SELECT {rows.CHAT_COLUMNS} FROM chats c WHERE c.platform = ? AND c.platform_chat_id = ?"
)


async def _chat_row(db: Transaction, platform: str, platform_chat_id: str) -> Chat | None:
    row = await db.fetchone(_CHAT_BY_PLATFORM_ID_SQL, (platform, platform_chat_id))
    return rows.chat(row) if row is not None else None


async def _fold_chat_into(db: Transaction, source: int, target: int) -> None:
    """Move every row of chat `source` to chat `target` and delete `source` (see move_chat)."""
    ids = {"source": source, "target": target}
    await db.execute(_END_GRANTS_DECIDED_AGAIN_SQL, ids)
    await db.execute("UPDATE consents SET chat_id = :target WHERE chat_id = :source", ids)
    await db.execute("UPDATE notes SET chat_id = :target WHERE chat_id = :source", ids)
    kept = await db.fetchone("SELECT * FROM chat_settings WHERE chat_id = ?", (target,))
    later = await db.fetchone("SELECT * FROM chat_settings WHERE chat_id = ?", (source,))
    if later is not None:
        merged = _merged_settings(
            rows.settings(kept) if kept else ChatSettings(), rows.settings(later)
        )
        await db.execute(
            _UPSERT_SETTINGS_SQL, _settings_params(target, merged, later["updated_at"])
        )
        # A day's digest posted under either id stays posted (ISO dates compare as text).
        if later["digest_sent_on"] is not None:
            await db.execute(
                "UPDATE chat_settings SET digest_sent_on = :day WHERE chat_id = :chat"
                " AND (digest_sent_on IS NULL OR digest_sent_on < :day)",
                {"day": later["digest_sent_on"], "chat": target},
            )
    # Only its settings row still refers to it, merged above and deleted with it by the cascade.
    await db.execute("DELETE FROM chats WHERE id = :source", ids)


def _merged_settings(kept: ChatSettings, later: ChatSettings) -> ChatSettings:
    """Settings changed from the defaults in the later chat win; analysis stays off if either is."""
    return ChatSettings(
        analysis=kept.analysis and later.analysis,
        digest=kept.digest or later.digest,
        digest_time=later.digest_time or kept.digest_time,
        language=later.language or kept.language,
        digest_channel=later.digest_channel or kept.digest_channel,
        transcript=later.transcript or kept.transcript,
    )


def _settings_params(chat_id: int, settings: ChatSettings, updated_at: float) -> dict[str, Any]:
    """The named parameters of _UPSERT_SETTINGS_SQL; a bad digest time or channel raises here."""
    channel = settings.digest_channel
    return {
        "chat": chat_id,
        "analysis": int(settings.analysis),
        "digest": int(settings.digest),
        "digest_time": values.digest_time(settings.digest_time),
        "digest_channel": values.platform_id(channel, "digest channel") if channel else None,
        "language": settings.language,
        "transcript": int(settings.transcript),
        "updated_at": updated_at,
    }


async def _require_person(db: Transaction, person: Person) -> None:
    if await db.fetchone("SELECT 1 FROM persons WHERE id = ?", (person.id,)) is None:
        raise PersonNotFound("That person is not known (any more).", person_id=person.id)


def _allows_analysis(row: Row) -> bool:
    return row["kind"] == "private" or (bool(row["analysis"]) and bool(row["analyse"]))


def _consent_scope(kind: str, chat: Chat | None) -> int | None:
    if kind not in CONSENT_KINDS:
        raise ValueError(f"consent kind must be one of {CONSENT_KINDS}, not {kind!r}")
    if kind == "analyse":
        if chat is None or chat.kind != "group":
            raise ValueError("'analyse' consent is given per group chat (private chats need none)")
        return chat.id
    if chat is not None:
        raise ValueError("'donate_audio' consent is global, not per chat")
    return None


def _same_kind(chat: Chat, kind: str) -> Chat:
    if chat.kind != kind:
        raise ValueError(f"chat {chat.platform_chat_id} is a {chat.kind} chat, not {kind}")
    return chat

"""Consent: who may be analysed where, and whose audio may be kept.

Reached as `store.consent`. As stored (see models.ConsentKind):
- a private chat with the bot is itself the request to analyse: no consent row is needed;
- in a group, a person's notes are analysed only while their "analyse" consent for that chat is
  in force and the chat has not switched analysis off;
- keeping audio needs "donate_audio", one global grant per person; withdrawing it deletes the
  audio already kept. Withdrawing "analyse" stops new analyses; past notes stay until "forget me".
Each grant is a row (given_at, withdrawn_at), so the history stays readable. The voice baseline's
grant is its own (storage/baselines.py).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from storage import audio_files, audio_rows, rows, values
from storage.backends import Row, Transaction
from storage.db import Db
from storage.models import CONSENT_KINDS, Chat, Consent, ConsentKind, Person
from storage.people import require_person

# The person :person's grants in force: "analyse" in the chat :chat, "donate_audio".
_ANALYSE_GRANT_SQL = """EXISTS (SELECT 1 FROM consents WHERE person_id = :person
    AND kind = 'analyse' AND chat_id = :chat AND withdrawn_at IS NULL)"""
DONATING_SQL = """EXISTS (SELECT 1 FROM consents WHERE person_id = :person
    AND kind = 'donate_audio' AND withdrawn_at IS NULL)"""
# Everything add_note must know, read inside its transaction so a withdrawal cannot slip between.
_PERMISSIONS_SQL = f"""
    SELECT EXISTS (SELECT 1 FROM persons WHERE id = :person) AS person_exists,
           c.kind, COALESCE(s.analysis, 1) AS analysis,
           {_ANALYSE_GRANT_SQL} AS analyse, {DONATING_SQL} AS donate
    FROM chats c LEFT JOIN chat_settings s ON s.chat_id = c.id WHERE c.id = :chat
"""
# What person_exists and allows_analysis say together, as a condition on the chat `c` (:chat)
# and its settings `s` (LEFT JOINed), for a statement that stores a note only where it may.
# PostgreSQL's voicemood_store_note (storage.migrations_postgres, step 15) holds a copy: a change
# here needs a new step replacing that function (tests/test_storage_note_rule.py runs both).
MAY_STORE_SQL = f"""EXISTS (SELECT 1 FROM persons WHERE id = :person)
    AND (c.kind = 'private' OR (COALESCE(s.analysis, 1) = 1 AND {_ANALYSE_GRANT_SQL}))"""
_ACTIVE_GRANT_SQL = (
    "SELECT * FROM consents WHERE person_id = ? AND kind = ? AND COALESCE(chat_id, 0) = ?"
    " AND withdrawn_at IS NULL"
)


class ConsentStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def give(
        self,
        person: Person,
        kind: ConsentKind,
        chat: Chat | None = None,
        *,
        at: datetime | None = None,
    ) -> Consent:
        """Record a grant ("analyse" needs the group chat, "donate_audio" none); idempotent."""
        chat_id = _consent_scope(kind, chat)
        async with self._db.write() as db:
            await require_person(db, person)
            existing = await db.fetchone(_ACTIVE_GRANT_SQL, (person.id, kind, chat_id or 0))
            if existing is not None:
                return rows.consent(existing)
            row = await db.fetchone(
                "INSERT INTO consents (person_id, kind, chat_id, given_at) VALUES (?, ?, ?, ?)"
                " RETURNING *",
                (person.id, kind, chat_id, values.timestamp(at)),
            )
        assert row is not None
        return rows.consent(row)

    async def withdraw(
        self,
        person: Person,
        kind: ConsentKind,
        chat: Chat | None = None,
        *,
        at: datetime | None = None,
    ) -> Consent | None:
        """End a grant (None if none was in force); ending "donate_audio" deletes the kept audio."""
        chat_id = _consent_scope(kind, chat)
        async with self._db.lock:
            async with self._db.backend.transaction() as db:
                row = await db.fetchone(
                    "UPDATE consents SET withdrawn_at = ? WHERE person_id = ? AND kind = ?"
                    " AND COALESCE(chat_id, 0) = ? AND withdrawn_at IS NULL RETURNING *",
                    (values.timestamp(at), person.id, kind, chat_id or 0),
                )
                if kind == "donate_audio":
                    await audio_rows.delete_person(db, person.id)  # PostgreSQL keeps it in rows
                    await db.execute(
                        "UPDATE notes SET audio_path = NULL"
                        " WHERE person_id = ? AND audio_path IS NOT NULL",
                        (person.id,),
                    )
            if kind == "donate_audio":
                # After the commit: a crash in between leaves files no row names, swept at open.
                await asyncio.to_thread(
                    audio_files.remove_person_folder, self._db.data_dir, person.platform, person.id
                )
        return rows.consent(row) if row is not None else None

    async def consents(self, person: Person) -> list[Consent]:
        """Every grant the person made, oldest first, withdrawn ones included."""
        records = await self._db.read(
            "SELECT * FROM consents WHERE person_id = ? ORDER BY given_at, id", (person.id,)
        )
        return [rows.consent(row) for row in records]

    async def may_analyse(self, person: Person, chat: Chat) -> bool:
        """Private chat: yes. Group: only after the person opted in and while the chat allows it."""
        row = await self._db.read_one(_PERMISSIONS_SQL, {"person": person.id, "chat": chat.id})
        return row is not None and bool(row["person_exists"]) and allows_analysis(row)

    async def may_keep_audio(self, person: Person) -> bool:
        """Whether the person's "donate_audio" grant is in force."""
        row = await self._db.read_one(_ACTIVE_GRANT_SQL, (person.id, "donate_audio", 0))
        return row is not None


async def permissions(db: Transaction, person: Person, chat: Chat) -> Row | None:
    """What a new note needs to know (person_exists, analysis allowed, donate), inside `db`.

    None when the chat is unknown; see allows_analysis.
    """
    return await db.fetchone(_PERMISSIONS_SQL, {"person": person.id, "chat": chat.id})


def allows_analysis(permissions: Row) -> bool:
    """Whether a note may be analysed (and stored) there; MAY_STORE_SQL says it in SQL."""
    return permissions["kind"] == "private" or (
        bool(permissions["analysis"]) and bool(permissions["analyse"])
    )


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

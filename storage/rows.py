"""Database rows (SQLite's or PostgreSQL's) back into storage's dataclasses, with the column lists those rows must carry.

Joined queries alias every column with a table prefix (p_, c_, n_), so one row can hold a note
and its person without name clashes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

from storage.backends import Row
from storage.models import (
    Chat,
    ChatSettings,
    Consent,
    Person,
    StoredBaseline,
    StoredNote,
    Vote,
)

PERSON_COLUMNS = (
    "p.id AS p_id, p.platform AS p_platform, p.platform_user_id AS p_user, "
    "p.language AS p_language, p.display_name AS p_name, p.created_at AS p_created"
)
CHAT_COLUMNS = (
    "c.id AS c_id, c.platform AS c_platform, c.platform_chat_id AS c_chat, c.kind AS c_kind, "
    "c.owner_id AS c_owner, c.created_at AS c_created"
)
NOTE_COLUMNS = (
    "n.id AS n_id, n.chat_id AS n_chat, n.platform_message_id AS n_message, "
    "n.created_at AS n_created, n.duration_s AS n_duration, n.model AS n_model, "
    "n.label AS n_label, n.confidence AS n_confidence, n.probabilities AS n_probabilities, "
    "n.audio_path AS n_audio, n.reply_message_id AS n_reply, n.answer_text AS n_answer, "
    + PERSON_COLUMNS
)


def to_datetime(timestamp: float) -> datetime:
    """Unix seconds as stored -> an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, UTC)


def person(row: Row) -> Person:
    return Person(
        id=int(row["p_id"]),
        platform=row["p_platform"],
        platform_user_id=row["p_user"],
        language=row["p_language"],
        display_name=row["p_name"],
        created_at=to_datetime(row["p_created"]),
    )


def chat(row: Row) -> Chat:
    return Chat(
        id=int(row["c_id"]),
        platform=row["c_platform"],
        platform_chat_id=row["c_chat"],
        kind=row["c_kind"],
        owner_id=row["c_owner"],
        created_at=to_datetime(row["c_created"]),
    )


def consent(row: Row) -> Consent:
    return Consent(
        person_id=int(row["person_id"]),
        kind=row["kind"],
        chat_id=row["chat_id"],
        given_at=to_datetime(row["given_at"]),
        withdrawn_at=to_datetime(row["withdrawn_at"]) if row["withdrawn_at"] is not None else None,
    )


def settings(row: Row) -> ChatSettings:
    digest_time = row["digest_time"]
    return ChatSettings(
        analysis=bool(row["analysis"]),
        digest=bool(row["digest"]),
        digest_time=time.fromisoformat(digest_time) if digest_time else None,
        language=row["language"],
        digest_channel=row["digest_channel"],
        transcript=bool(row["transcript"]),
    )


def note(row: Row) -> StoredNote:
    return StoredNote(
        id=int(row["n_id"]),
        person=person(row),
        chat_id=int(row["n_chat"]),
        platform_message_id=row["n_message"],
        created_at=to_datetime(row["n_created"]),
        duration_s=float(row["n_duration"]),
        model=row["n_model"],
        label=row["n_label"],
        confidence=float(row["n_confidence"]),
        probabilities=json.loads(row["n_probabilities"]),
        audio_path=row["n_audio"],
        reply_message_id=row["n_reply"],
        answer_text=row["n_answer"],
    )


def vote(row: Row) -> Vote:
    return Vote(
        note_id=int(row["note_id"]),
        voter_id=int(row["voter_id"]),
        label=row["label"],
        intensity=row["intensity"],
        created_at=to_datetime(row["created_at"]),
    )


def baseline(row: Row) -> StoredBaseline:
    return StoredBaseline(
        encoder=row["encoder"],
        count=int(row["count"]),
        dim=int(row["dim"]),
        stats=bytes(row["stats"]),
        updated_at=to_datetime(row["updated_at"]),
    )

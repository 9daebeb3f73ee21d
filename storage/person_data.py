"""Everything stored about one person, gathered in one place for their own copy (GDPR Art. 15, 20).

Every table keyed by a person is read here; a new such table belongs here too (and in
queries.FORGET_STEPS), so the export and "forget me" never fall behind the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.models import Chat, Consent, Person, StoredBaseline, StoredNote, Vote
from storage.practice import PracticeSession, ToneScore
from storage.rows import CHAT_COLUMNS, NOTE_COLUMNS

# The person's notes, oldest first; :since may be -inf.
PERSON_NOTES_SQL = f"""
    SELECT {NOTE_COLUMNS} FROM notes n JOIN persons p ON p.id = n.person_id
    WHERE n.person_id = :person AND n.created_at >= :since
    ORDER BY n.created_at, n.id
"""
# The chats the person owns (private chats) or has notes or grants in.
PERSON_CHATS_SQL = f"""
    SELECT {CHAT_COLUMNS} FROM chats c
    WHERE c.owner_id = :person
       OR c.id IN (SELECT chat_id FROM notes WHERE person_id = :person)
       OR c.id IN (SELECT chat_id FROM consents WHERE person_id = :person)
    ORDER BY c.id
"""
VOTES_CAST_SQL = "SELECT * FROM votes WHERE voter_id = :person ORDER BY created_at, id"
CONSENTS_SQL = "SELECT * FROM consents WHERE person_id = :person ORDER BY given_at, id"
BASELINE_GRANT_SQL = "SELECT given_at FROM baseline_consents WHERE person_id = :person"
BASELINES_SQL = "SELECT * FROM baselines WHERE person_id = :person"
CUE_BASELINE_SQL = "SELECT stats, updated_at FROM cue_baselines WHERE person_id = :person"
WORDS_SQL = "SELECT label, word FROM label_words WHERE person_id = :person ORDER BY label"
TRANSCRIPT_SQL = "SELECT given_at FROM transcript_choices WHERE person_id = :person"


@dataclass(frozen=True)
class CueStatistics:
    """The person's voice-cue running statistics, opaque bytes (inference.cues.CueBaseline)."""

    stats: bytes
    updated_at: datetime


@dataclass(frozen=True)
class PersonData:
    """One person's rows from every table that holds something about them."""

    person: Person
    chats: list[Chat]
    notes: list[StoredNote]
    votes_cast: list[Vote]
    consents: list[Consent]
    # When /baseline on was given (None: off).
    baseline_granted_at: datetime | None
    baselines: list[StoredBaseline]
    cue_statistics: CueStatistics | None
    # The person's own words for labels (label -> word).
    words: dict[str, str] = field(default_factory=dict)
    # When /transcript on was given (None: off). The words themselves are never stored.
    transcript_on_since: datetime | None = None
    # Practice mode: the running score per tone, and the session open now (None: none).
    practice_scores: list[ToneScore] = field(default_factory=list)
    practice_session: PracticeSession | None = None

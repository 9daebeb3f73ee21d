"""A person's rights over what is stored about them: their own copy (GDPR Art. 15, 20) and
"forget me" (Art. 17).

Reached as `store.privacy`. The copy is gathered from each feature's own reads; "forget me"
deletes from every table keyed by a person in one transaction. A new such table belongs in both
(PersonData and FORGET_STEPS), so the copy and the forgetting never fall behind the schema.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from storage import audio_files, audio_rows, baselines, music, practice, preferences, values
from storage.baselines import BaselineStore, CueStatistics
from storage.consent import ConsentStore
from storage.corrections import CorrectionNote, CorrectionStore
from storage.db import Db
from storage.faces import FaceStore
from storage.feedback import FeedbackStore
from storage.language_stats import LanguageStatsStore
from storage.models import Chat, Consent, ForgetReport, Person, StoredBaseline, StoredNote, Vote
from storage.music import MusicChoice, MusicStore
from storage.notes import NoteStore
from storage.people import PeopleStore, find_person_id
from storage.practice import PracticeSession, PracticeStore, ToneScore
from storage.preferences import PreferenceStore

__all__ = ["CueStatistics", "PersonData", "PrivacyStore", "FORGET_STEPS"]

# forget's deletes, in an order that never leaves a dangling reference; names are counts.
FORGET_STEPS: tuple[tuple[str, str], ...] = (
    (
        "votes_on_their_notes",
        "DELETE FROM votes WHERE voter_id != :person"
        " AND note_id IN (SELECT id FROM notes WHERE person_id = :person)",
    ),
    ("votes_cast", "DELETE FROM votes WHERE voter_id = :person"),
    ("correction_notes", "DELETE FROM correction_notes WHERE person_id = :person"),
    # Donated audio kept in the database (PostgreSQL); the notes' delete would cascade to it.
    ("audio_rows", audio_rows.DELETE_PERSON_SQL),
    ("notes", "DELETE FROM notes WHERE person_id = :person"),
    ("consents", "DELETE FROM consents WHERE person_id = :person"),
    ("chats", "DELETE FROM chats WHERE owner_id = :person"),
    ("baseline_stats", "DELETE FROM baselines WHERE person_id = :person"),
    ("cue_stats", "DELETE FROM cue_baselines WHERE person_id = :person"),
    ("baselines", baselines.END_GRANT_SQL),
    ("words", preferences.RESET_WORDS_SQL),
    ("practice_session_tones", "DELETE FROM practice_session_tones WHERE person_id = :person"),
    ("practice_sessions", practice.END_SESSION_SQL),
    ("practice_scores", "DELETE FROM practice_scores WHERE person_id = :person"),
    ("music", music.FORGET_SQL),
    # Only the mark that they are counted; their notes stay inside the language's averages.
    ("language_stats_people", "DELETE FROM language_stats_people WHERE person_id = :person"),
    ("person", "DELETE FROM persons WHERE id = :person"),
)


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
    # When /face on was given (None: off), and when the hint about it was shown (None: never).
    # Frames and videos are never stored.
    face_on_since: datetime | None = None
    face_hint_shown_at: datetime | None = None
    # Numbers kept under the baseline for corrections to teach (storage.corrections).
    correction_notes: list[CorrectionNote] = field(default_factory=list)
    # Music for the mood: match or lift, and the songs suggested last (None: never asked).
    music: MusicChoice | None = None
    # Donated audio kept (/donate on), by note id: the recordings themselves.
    audio: dict[int, bytes] = field(default_factory=dict)
    # The languages whose statistics (everyone's notes averaged) count the person once.
    language_statistics: list[str] = field(default_factory=list)


class PrivacyStore:
    def __init__(
        self,
        db: Db,
        *,
        people: PeopleStore,
        notes: NoteStore,
        feedback: FeedbackStore,
        consent: ConsentStore,
        baselines: BaselineStore,
        preferences: PreferenceStore,
        practice: PracticeStore,
        faces: FaceStore,
        music: MusicStore,
        languages: LanguageStatsStore | None = None,
    ) -> None:
        self._db = db
        self._people, self._notes, self._feedback = people, notes, feedback
        self._consent, self._baselines = consent, baselines
        self._preferences, self._practice = preferences, practice
        self._faces = faces
        self._music = music
        self._languages = languages or LanguageStatsStore(db)

    async def export(self, person: Person) -> PersonData:
        """Everything stored about the person, from every table keyed by them (for /export)."""
        notes = await self._notes.person_notes(person)
        audio = {}
        for note in notes:
            kept = await self._notes.audio(note)
            if kept is not None:
                audio[note.id] = kept
        return PersonData(
            person=person,
            chats=await self._people.chats_of(person),
            notes=notes,
            votes_cast=await self._feedback.votes_cast(person),
            consents=await self._consent.consents(person),
            baseline_granted_at=await self._baselines.consent(person),
            baselines=await self._baselines.baselines(person),
            cue_statistics=await self._baselines.cue_statistics(person),
            words=await self._preferences.label_words(person),
            transcript_on_since=await self._preferences.transcript_on_since(person),
            practice_scores=await self._practice.scores(person),
            practice_session=await self._practice.session(person),
            face_on_since=await self._faces.reading_on_since(person),
            face_hint_shown_at=await self._faces.hint_shown_at(person),
            correction_notes=await CorrectionStore(self._db).notes(person),
            music=await self._music.choice(person),
            audio=audio,
            language_statistics=await self._languages.counted_in(person),
        )

    async def forget(self, platform: str, platform_user_id: str | int) -> ForgetReport:
        """Delete everything the person owns, in every chat: notes, votes, consent, audio, chats,
        voice baseline.

        Other people's votes on the person's notes go with the notes; their other votes stay.
        """
        platform, user = values.platform(platform), values.platform_id(platform_user_id, "user id")
        async with self._db.lock:
            async with self._db.backend.transaction() as db:
                person_id = await find_person_id(db, platform, user)
                if person_id is None:
                    return ForgetReport(found=False)
                counts = {}
                for name, sql in FORGET_STEPS:
                    counts[name] = await db.execute(sql, {"person": person_id})
            files = await asyncio.to_thread(
                audio_files.remove_person_folder, self._db.data_dir, platform, person_id
            )
            await self._db.backend.after_forget()
        return ForgetReport(
            found=True,
            notes=counts["notes"],
            votes_cast=counts["votes_cast"],
            votes_on_their_notes=counts["votes_on_their_notes"],
            consents=counts["consents"],
            chats=counts["chats"],
            audio_files=files + counts["audio_rows"],
            baselines=counts["baselines"],
        )

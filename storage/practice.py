"""Practice mode's rows: a person's open session, its tally per tone, their running score per tone.

Counts and times only, never audio (schema step 9, in SQL both backends read). Each write is one
transaction on the store's Db, so two replicas sharing the database never half-apply an attempt.
Reached as `store.practice`.
"""

from __future__ import annotations

import time as clock
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from storage import rows
from storage.backends import Row, Transaction
from storage.db import Db
from storage.models import Person

_SESSION_SQL = "SELECT * FROM practice_sessions WHERE person_id = :person"
# This session's tally goes with it by the cascade.
END_SESSION_SQL = "DELETE FROM practice_sessions WHERE person_id = :person"
_SESSION_TONES_SQL = (
    "SELECT tone, attempts, hits FROM practice_session_tones WHERE person_id = :person"
    " ORDER BY tone"
)
_SCORES = "SELECT tone, attempts, hits, last_practised_at FROM practice_scores"
_SCORES_SQL = f"{_SCORES} WHERE person_id = :person ORDER BY tone"
_SCORE_SQL = f"{_SCORES} WHERE person_id = :person AND tone = :tone"
_START_SQL = """
    INSERT INTO practice_sessions (person_id, tone, sentence, rounds, started_at, active_at)
    VALUES (:person, :tone, :sentence, 0, :now, :now)
    ON CONFLICT (person_id) DO UPDATE SET
        tone = excluded.tone, sentence = excluded.sentence, active_at = excluded.active_at
"""
_TALLY_SQL = """
    INSERT INTO {table} (person_id, tone, attempts, hits{time_column})
    VALUES (:person, :tone, 1, :hit{time_value})
    ON CONFLICT (person_id, tone) DO UPDATE SET
        attempts = {table}.attempts + 1, hits = {table}.hits + excluded.hits{time_update}
"""
_SESSION_TALLY_SQL = _TALLY_SQL.format(
    table="practice_session_tones", time_column="", time_value="", time_update=""
)
_SCORE_TALLY_SQL = _TALLY_SQL.format(
    table="practice_scores",
    time_column=", last_practised_at",
    time_value=", :now",
    time_update=", last_practised_at = excluded.last_practised_at",
)


@dataclass(frozen=True)
class Tally:
    """Attempts at one tone and how many were heard as that tone."""

    tone: str
    attempts: int
    hits: int


@dataclass(frozen=True)
class ToneScore:
    """A person's running score for one tone, over every session."""

    tone: str
    attempts: int
    hits: int
    last_practised_at: datetime


@dataclass(frozen=True)
class PracticeSession:
    """The open session: the tone and sentence asked for now, and how far it got."""

    tone: str
    # An index into the language's practice sentences, so a /lang change keeps the round.
    sentence: int
    # Attempts heard in this session so far.
    rounds: int
    started_at: datetime
    # The last round started or attempt heard: an idle session expires from here.
    active_at: datetime
    tallies: tuple[Tally, ...] = ()


@dataclass(frozen=True)
class EndedSession:
    """A session as it ended, with the running scores after it."""

    session: PracticeSession
    scores: tuple[ToneScore, ...]


class PracticeStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def session(self, person: Person) -> PracticeSession | None:
        """The person's open session, with this session's tally; None when none is open."""
        who = {"person": person.id}
        row = await self._db.read_one(_SESSION_SQL, who)
        if row is None:
            return None
        tallies = await self._db.read(_SESSION_TONES_SQL, who)
        return _session(row, tallies)

    async def start_round(
        self, person: Person, tone: str, sentence: int, *, at: datetime | None = None
    ) -> PracticeSession:
        """Ask for `tone` and `sentence` now, opening a session when none is open."""
        now = at.timestamp() if at is not None else clock.time()
        who = {"person": person.id}
        async with self._db.write() as db:
            await db.execute(
                _START_SQL, {**who, "tone": tone, "sentence": int(sentence), "now": now}
            )
            row = await _one(db, _SESSION_SQL, who)
            tallies = await db.fetch(_SESSION_TONES_SQL, who)
        return _session(row, tallies)

    async def record_attempt(
        self, person: Person, tone: str, hit: bool, *, at: datetime | None = None
    ) -> ToneScore | None:
        """Count one attempt at `tone` in the open session and the running score; the new score.

        None when no session is open any more (stopped or forgotten meanwhile): nothing is kept.
        """
        now = at.timestamp() if at is not None else clock.time()
        params = {"person": person.id, "tone": tone, "hit": int(hit), "now": now}
        async with self._db.write() as db:
            changed = await db.execute(
                "UPDATE practice_sessions SET rounds = rounds + 1, active_at = :now"
                " WHERE person_id = :person",
                params,
            )
            if changed == 0:
                return None
            await db.execute(_SESSION_TALLY_SQL, params)
            await db.execute(_SCORE_TALLY_SQL, params)
            row = await _one(db, _SCORE_SQL, params)
        return _score(row)

    async def end(self, person: Person) -> EndedSession | None:
        """Close the open session (its tally goes with it); None when none was open."""
        who = {"person": person.id}
        async with self._db.write() as db:
            row = await db.fetchone(_SESSION_SQL, who)
            if row is None:
                return None
            tallies = await db.fetch(_SESSION_TONES_SQL, who)
            scores = [_score(r) for r in await db.fetch(_SCORES_SQL, who)]
            await db.execute(END_SESSION_SQL, who)
        return EndedSession(_session(row, tallies), tuple(scores))

    async def scores(self, person: Person) -> list[ToneScore]:
        """The person's running score per tone (tones never practised are absent)."""
        return [_score(r) for r in await self._db.read(_SCORES_SQL, {"person": person.id})]


def _session(row: Row, tallies: Iterable[Row]) -> PracticeSession:
    return PracticeSession(
        tone=str(row["tone"]),
        sentence=int(row["sentence"]),
        rounds=int(row["rounds"]),
        started_at=rows.to_datetime(row["started_at"]),
        active_at=rows.to_datetime(row["active_at"]),
        tallies=tuple(Tally(str(t["tone"]), int(t["attempts"]), int(t["hits"])) for t in tallies),
    )


def _score(row: Row) -> ToneScore:
    return ToneScore(
        tone=str(row["tone"]),
        attempts=int(row["attempts"]),
        hits=int(row["hits"]),
        last_practised_at=rows.to_datetime(row["last_practised_at"]),
    )


async def _one(db: Transaction, sql: str, params: Mapping[str, object]) -> Row:
    found = await db.fetchone(sql, params)
    assert found is not None, sql
    return found

"""The schema as a list of numbered steps; `migrate` upgrades a file of any older version in place.

The version lives in `PRAGMA user_version` (kept in the file header, so it moves inside the same
transaction as the step that sets it). A step is never edited once released: change the schema
by appending a step, here and its twin in storage.migrations_postgres. Times are REAL unix
seconds (UTC) everywhere.

Why this runner and not Alembic: the steps are SQL in each engine's own words and the store uses
no SQLAlchemy models, so Alembic's autogenerate would have nothing to compare against; what the
project needs is three rules this runner keeps in a few lines: each step and its version commit
together or not at all, a step that leaves a dangling reference rolls back (PRAGMA
foreign_key_check; PostgreSQL checks keys as it goes), and a database a newer VoiceMood wrote is
refused as SchemaTooNew instead of half-understood. On PostgreSQL an advisory lock lets replicas
start together while one migrates. Alembic would buy downgrade scripts and batch mode for the
table rebuilds SQLite needs to change a column: the first step that needs a rebuild is the time
to weigh it again. The twins are held equal by tests/test_storage_schema_parity.py, which reads
both engines' catalogues.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.errors import SchemaTooNew


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "people, chats, consent, analysed notes and feedback votes",
        (
            # AUTOINCREMENT: a forgotten person's id (and audio folder name) is never reused.
            """CREATE TABLE persons (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                platform TEXT NOT NULL,
                platform_user_id TEXT NOT NULL,
                created_at REAL NOT NULL,
                UNIQUE (platform, platform_user_id)
            )""",
            """CREATE TABLE chats (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                platform TEXT NOT NULL,
                platform_chat_id TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('private', 'group')),
                owner_id INTEGER REFERENCES persons (id) ON DELETE CASCADE,
                created_at REAL NOT NULL,
                UNIQUE (platform, platform_chat_id)
            )""",
            "CREATE INDEX chats_by_owner ON chats (owner_id)",
            # One row per grant, so the history of given/withdrawn stays readable.
            """CREATE TABLE consents (
                id INTEGER PRIMARY KEY,
                person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('analyse', 'donate_audio')),
                chat_id INTEGER REFERENCES chats (id) ON DELETE CASCADE,
                given_at REAL NOT NULL,
                withdrawn_at REAL,
                CHECK ((kind = 'analyse') = (chat_id IS NOT NULL))
            )""",
            """CREATE UNIQUE INDEX consents_one_active
                ON consents (person_id, kind, IFNULL(chat_id, 0)) WHERE withdrawn_at IS NULL""",
            "CREATE INDEX consents_by_person ON consents (person_id, kind)",
            "CREATE INDEX consents_by_chat ON consents (chat_id)",
            """CREATE TABLE notes (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
                platform_message_id TEXT NOT NULL,
                created_at REAL NOT NULL,
                duration_s REAL NOT NULL,
                model TEXT NOT NULL,
                label TEXT NOT NULL,
                confidence REAL NOT NULL,
                probabilities TEXT NOT NULL CHECK (json_valid(probabilities)),
                audio_path TEXT,
                UNIQUE (chat_id, platform_message_id)
            )""",
            # Summaries read a chat's notes by time: since a moment, or the last N.
            "CREATE INDEX notes_by_chat_time ON notes (chat_id, created_at)",
            "CREATE INDEX notes_by_person ON notes (person_id)",
            """CREATE TABLE votes (
                id INTEGER PRIMARY KEY,
                note_id INTEGER NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
                voter_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                label TEXT NOT NULL,
                created_at REAL NOT NULL,
                UNIQUE (note_id, voter_id)
            )""",
            "CREATE INDEX votes_by_voter ON votes (voter_id)",
        ),
    ),
    Migration(
        2,
        "language and display name per person, vote intensity, reply links, chat settings",
        (
            "ALTER TABLE persons ADD COLUMN language TEXT",
            # Summaries name people; "forget me" deletes it with the person row.
            "ALTER TABLE persons ADD COLUMN display_name TEXT",
            # The bot's answer message, so a reaction or reply on it finds its note.
            "ALTER TABLE notes ADD COLUMN reply_message_id TEXT",
            """CREATE UNIQUE INDEX notes_by_reply ON notes (chat_id, reply_message_id)
                WHERE reply_message_id IS NOT NULL""",
            """ALTER TABLE votes ADD COLUMN intensity REAL
                CHECK (intensity IS NULL OR (intensity >= 0 AND intensity <= 1))""",
            """CREATE TABLE chat_settings (
                chat_id INTEGER PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
                analysis INTEGER NOT NULL DEFAULT 1 CHECK (analysis IN (0, 1)),
                digest INTEGER NOT NULL DEFAULT 0 CHECK (digest IN (0, 1)),
                digest_time TEXT CHECK (digest_time IS NULL OR digest_time GLOB '[0-2][0-9]:[0-5][0-9]'),
                language TEXT,
                updated_at REAL NOT NULL
            )""",
            "CREATE INDEX chat_settings_with_digest ON chat_settings (chat_id) WHERE digest = 1",
        ),
    ),
    Migration(
        3,
        "the channel a chat's daily digest is posted in",
        # NULL (every row written before this step): the platform's usual place for the chat.
        ("ALTER TABLE chat_settings ADD COLUMN digest_channel TEXT",),
    ),
    Migration(
        4,
        "a person's own opt-in to a voice baseline, and the baseline's running statistics",
        (
            # Its own grant, kept apart from `consents` (whose kinds a released step's CHECK
            # fixes): a row while in force; withdrawing deletes it.
            """CREATE TABLE baseline_consents (
                person_id INTEGER PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                given_at REAL NOT NULL
            )""",
            # Numbers only (count, and mean and M2 as bytes), never audio. Hanging off the grant,
            # the statistics cannot outlive it: withdrawing or forgetting cascades to them.
            """CREATE TABLE baselines (
                person_id INTEGER PRIMARY KEY
                    REFERENCES baseline_consents (person_id) ON DELETE CASCADE,
                encoder TEXT NOT NULL,
                dim INTEGER NOT NULL CHECK (dim > 0),
                count INTEGER NOT NULL CHECK (count >= 0),
                stats BLOB NOT NULL,
                updated_at REAL NOT NULL
            )""",
        ),
    ),
    Migration(
        5,
        "the day a chat's digest was last posted, and the answer's text kept with its note",
        (
            # ISO date (UTC) of the last day claimed by claim_digest: once a day across restarts.
            "ALTER TABLE chat_settings ADD COLUMN digest_sent_on TEXT",
            # The answer as sent, so an edit after a vote re-renders it from the note. NULL for
            # notes stored before this step (and for web uploads, which are never edited).
            "ALTER TABLE notes ADD COLUMN answer_text TEXT",
        ),
    ),
    Migration(
        6,
        "running statistics of a person's voice cues, kept under their baseline grant",
        (
            # Numbers only (inference.cues.CueBaseline's bytes), never audio. Apart from
            # `baselines` because cues do not depend on the model (a new model keeps them), and
            # hanging off the same grant: /baseline off and /forget cascade to them.
            """CREATE TABLE cue_baselines (
                person_id INTEGER PRIMARY KEY
                    REFERENCES baseline_consents (person_id) ON DELETE CASCADE,
                stats BLOB NOT NULL,
                updated_at REAL NOT NULL
            )""",
        ),
    ),
    Migration(
        7,
        "a person's own words for labels, shown to them in place of the canonical names",
        (
            # Only what the person typed; the canonical label stays on every note, for training
            # and summaries. Keyed by the person, so /forget cascades to it.
            """CREATE TABLE label_words (
                person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                label TEXT NOT NULL,
                word TEXT NOT NULL CHECK (length(word) BETWEEN 1 AND 32),
                updated_at REAL NOT NULL,
                PRIMARY KEY (person_id, label)
            )""",
        ),
    ),
    Migration(
        8,
        "a person's choice to see their notes' words, and a group's permission for it",
        (
            # A row while the person has /transcript on; never the words themselves, which
            # are shown once and not kept. /forget removes it with the person (the cascade).
            """CREATE TABLE transcript_choices (
                person_id INTEGER PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                given_at REAL NOT NULL
            )""",
            # A group's admins allow the words there (off until they do); private chats ignore it.
            "ALTER TABLE chat_settings ADD COLUMN transcript INTEGER NOT NULL DEFAULT 0",
        ),
    ),
    Migration(
        9,
        "practice mode: a person's open practice session, its tally, and their score per tone",
        (
            # The open session (at most one per person): the tone and sentence asked for now.
            # In the database, not in memory, so any bot replica can take the next attempt.
            # Never audio: an attempt is heard, scored and forgotten.
            """CREATE TABLE practice_sessions (
                person_id INTEGER PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                tone TEXT NOT NULL,
                sentence INTEGER NOT NULL CHECK (sentence >= 0),
                rounds INTEGER NOT NULL DEFAULT 0 CHECK (rounds >= 0),
                started_at REAL NOT NULL,
                active_at REAL NOT NULL
            )""",
            # This session's attempts and hits per tone, for its summary; ending the session
            # deletes them by the cascade.
            """CREATE TABLE practice_session_tones (
                person_id INTEGER NOT NULL
                    REFERENCES practice_sessions (person_id) ON DELETE CASCADE,
                tone TEXT NOT NULL,
                attempts INTEGER NOT NULL CHECK (attempts >= 0),
                hits INTEGER NOT NULL CHECK (hits >= 0 AND hits <= attempts),
                PRIMARY KEY (person_id, tone)
            )""",
            # The running score per tone over every session: counts and a time, nothing else.
            """CREATE TABLE practice_scores (
                person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                tone TEXT NOT NULL,
                attempts INTEGER NOT NULL CHECK (attempts >= 0),
                hits INTEGER NOT NULL CHECK (hits >= 0 AND hits <= attempts),
                last_practised_at REAL NOT NULL,
                PRIMARY KEY (person_id, tone)
            )""",
        ),
    ),
    Migration(
        10,
        "music for the mood: a person's choice (match or lift) and the last songs suggested",
        (
            # One row per person who asked for music or chose a mode. `last_songs` holds the
            # catalogue keys of the latest three ("pmemo:124,film:17,..."), so the next
            # suggestion differs on any replica. /forget removes it with the person.
            """CREATE TABLE music_choices (
                person_id INTEGER PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                mode TEXT NOT NULL DEFAULT 'match' CHECK (mode IN ('match', 'lift')),
                last_songs TEXT NOT NULL,
                updated_at REAL NOT NULL
            )""",
        ),
    ),
    Migration(
        11,
        "donated audio kept in the database, for PostgreSQL replicas that share no folder",
        (
            # Used on PostgreSQL only (storage/audio_rows.py); SQLite keeps donated audio in
            # files (storage/audio_files.py) and leaves this table empty, so the schema is one.
            """CREATE TABLE note_audio (
                note_id INTEGER PRIMARY KEY REFERENCES notes (id) ON DELETE CASCADE,
                data BLOB NOT NULL
            )""",
        ),
    ),
    Migration(
        12,
        "a person's notes' embeddings for their corrections to teach, kept under their baseline grant",
        (
            # Numbers only (the note's embedding and the model's own probabilities for it, before
            # any personal adjustment), never audio; a vote of the person on the note makes it a
            # correction (inference.personal). Hanging off the baseline grant and the note:
            # /baseline off, /forget and a deleted note cascade to it.
            """CREATE TABLE correction_notes (
                note_id INTEGER PRIMARY KEY REFERENCES notes (id) ON DELETE CASCADE,
                person_id INTEGER NOT NULL
                    REFERENCES baseline_consents (person_id) ON DELETE CASCADE,
                model TEXT NOT NULL,
                dim INTEGER NOT NULL CHECK (dim > 0),
                embedding BLOB NOT NULL,
                probabilities TEXT NOT NULL,
                created_at REAL NOT NULL
            )""",
            "CREATE INDEX correction_notes_person ON correction_notes (person_id, note_id)",
        ),
    ),
    Migration(
        13,
        "a person's choice to have the faces in their video notes read, and its one hint",
        (
            # given_at while /face on is in force (NULL once off); hinted_at when the hint that
            # /face exists was shown (once). Never a frame or a video: faces are read and
            # forgotten. /forget removes the row with the person (the cascade).
            """CREATE TABLE face_choices (
                person_id INTEGER PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                given_at REAL,
                hinted_at REAL
            )""",
        ),
    ),
    Migration(
        14,
        "running statistics of the notes analysed per language, and who is counted among them",
        (
            # Numbers averaged over everyone's notes in one chat language (count, mean and M2
            # of the model's note vectors), never audio and nobody's own numbers; kept only
            # while VOICEMOOD_LANGUAGE_BASELINE is on (storage/language_stats.py).
            """CREATE TABLE language_stats (
                language TEXT NOT NULL PRIMARY KEY,
                model TEXT NOT NULL,
                dim INTEGER NOT NULL CHECK (dim > 0),
                count INTEGER NOT NULL CHECK (count > 0),
                people INTEGER NOT NULL CHECK (people >= 0),
                stats BLOB NOT NULL,
                updated_at REAL NOT NULL
            )""",
            # Only that a person's notes are in a language's statistics, so each person counts
            # once among its people; no numbers. /forget removes it (the cascade).
            """CREATE TABLE language_stats_people (
                person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                language TEXT NOT NULL REFERENCES language_stats (language) ON DELETE CASCADE,
                PRIMARY KEY (person_id, language)
            )""",
        ),
    ),
    Migration(
        15,
        "PostgreSQL: a known person's note stored in one trip to the server (a function)",
        (),  # SQLite has no trips to save: its twin is storage.migrations_postgres's step 15
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


async def migrate(db: aiosqlite.Connection) -> int:
    """Apply every step newer than the file's version, each in its own transaction; returns the old version.

    `db` must be in autocommit mode (isolation_level=None) with foreign keys on.
    """
    found = await schema_version(db)
    if found > LATEST_VERSION:
        raise SchemaTooNew(
            f"This database has schema version {found}, newer than this VoiceMood knows "
            f"({LATEST_VERSION}); upgrade VoiceMood instead of opening it here.",
            found=found,
            latest=LATEST_VERSION,
        )
    for step in MIGRATIONS:
        if step.version > found:
            await _apply(db, step)
    return found


async def schema_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _apply(db: aiosqlite.Connection, step: Migration) -> None:
    await db.execute("BEGIN IMMEDIATE")
    try:
        for statement in step.statements:
            await db.execute(statement)
        async with db.execute("PRAGMA foreign_key_check") as cursor:
            broken = list(await cursor.fetchall())
        if broken:
            raise RuntimeError(f"migration {step.version} left broken references: {broken[:5]}")
        # PRAGMA takes no parameters; the version is an int from the list above.
        await db.execute(f"PRAGMA user_version = {int(step.version)}")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")

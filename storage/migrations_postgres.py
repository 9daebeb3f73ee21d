"""The PostgreSQL twin of every step in storage.migrations, and `migrate` for a PostgreSQL database.

Step N here makes the same tables, columns, keys, checks and indexes as SQLite's step N, in
PostgreSQL's words: BIGINT GENERATED ALWAYS AS IDENTITY for AUTOINCREMENT ids (never reused, so a
forgotten person's audio folder name never comes back), DOUBLE PRECISION for REAL unix seconds,
BYTEA for BLOB, COALESCE for IFNULL, a regular expression for GLOB, a jsonb cast for json_valid.
A step exists in both lists or in neither (tests/test_storage_postgres.py checks it), and both
lists make the same schema: tests/test_storage_schema_parity.py reads each engine's catalogue and
compares types, NOT NULL, defaults, CHECKs, keys, ON DELETE rules and indexes. Never edit a
released step: append one to both.

The version is the one row of `schema_version`, changed in the same transaction as its step. A
transaction-scoped advisory lock lets several replicas start at once: one migrates, the others
wait and then find nothing left to do.
"""

from __future__ import annotations

import asyncpg

from storage.errors import SchemaTooNew
from storage.migrations import Migration

# pg_advisory_xact_lock's key for "the schema is being migrated".
MIGRATE_LOCK = 0x766D_0002

POSTGRES_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "people, chats, consent, analysed notes and feedback votes",
        (
            """CREATE TABLE persons (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                platform TEXT NOT NULL,
                platform_user_id TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                UNIQUE (platform, platform_user_id)
            )""",
            """CREATE TABLE chats (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                platform TEXT NOT NULL,
                platform_chat_id TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('private', 'group')),
                owner_id BIGINT REFERENCES persons (id) ON DELETE CASCADE,
                created_at DOUBLE PRECISION NOT NULL,
                UNIQUE (platform, platform_chat_id)
            )""",
            "CREATE INDEX chats_by_owner ON chats (owner_id)",
            """CREATE TABLE consents (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('analyse', 'donate_audio')),
                chat_id BIGINT REFERENCES chats (id) ON DELETE CASCADE,
                given_at DOUBLE PRECISION NOT NULL,
                withdrawn_at DOUBLE PRECISION,
                CHECK ((kind = 'analyse') = (chat_id IS NOT NULL))
            )""",
            """CREATE UNIQUE INDEX consents_one_active
                ON consents (person_id, kind, COALESCE(chat_id, 0)) WHERE withdrawn_at IS NULL""",
            "CREATE INDEX consents_by_person ON consents (person_id, kind)",
            "CREATE INDEX consents_by_chat ON consents (chat_id)",
            """CREATE TABLE notes (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                chat_id BIGINT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
                platform_message_id TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                duration_s DOUBLE PRECISION NOT NULL,
                model TEXT NOT NULL,
                label TEXT NOT NULL,
                confidence DOUBLE PRECISION NOT NULL,
                probabilities TEXT NOT NULL CHECK (probabilities::jsonb IS NOT NULL),
                audio_path TEXT,
                UNIQUE (chat_id, platform_message_id)
            )""",
            "CREATE INDEX notes_by_chat_time ON notes (chat_id, created_at)",
            "CREATE INDEX notes_by_person ON notes (person_id)",
            """CREATE TABLE votes (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                note_id BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
                voter_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                label TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
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
            "ALTER TABLE persons ADD COLUMN display_name TEXT",
            "ALTER TABLE notes ADD COLUMN reply_message_id TEXT",
            """CREATE UNIQUE INDEX notes_by_reply ON notes (chat_id, reply_message_id)
                WHERE reply_message_id IS NOT NULL""",
            """ALTER TABLE votes ADD COLUMN intensity DOUBLE PRECISION
                CHECK (intensity IS NULL OR (intensity >= 0 AND intensity <= 1))""",
            """CREATE TABLE chat_settings (
                chat_id BIGINT PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
                analysis INTEGER NOT NULL DEFAULT 1 CHECK (analysis IN (0, 1)),
                digest INTEGER NOT NULL DEFAULT 0 CHECK (digest IN (0, 1)),
                digest_time TEXT CHECK (digest_time IS NULL OR digest_time ~ '^[0-2][0-9]:[0-5][0-9]$'),
                language TEXT,
                updated_at DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX chat_settings_with_digest ON chat_settings (chat_id) WHERE digest = 1",
        ),
    ),
    Migration(
        3,
        "the channel a chat's daily digest is posted in",
        ("ALTER TABLE chat_settings ADD COLUMN digest_channel TEXT",),
    ),
    Migration(
        4,
        "a person's own opt-in to a voice baseline, and the baseline's running statistics",
        (
            """CREATE TABLE baseline_consents (
                person_id BIGINT PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                given_at DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE baselines (
                person_id BIGINT PRIMARY KEY
                    REFERENCES baseline_consents (person_id) ON DELETE CASCADE,
                encoder TEXT NOT NULL,
                dim INTEGER NOT NULL CHECK (dim > 0),
                count INTEGER NOT NULL CHECK (count >= 0),
                stats BYTEA NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
    Migration(
        5,
        "the day a chat's digest was last posted, and the answer's text kept with its note",
        (
            "ALTER TABLE chat_settings ADD COLUMN digest_sent_on TEXT",
            "ALTER TABLE notes ADD COLUMN answer_text TEXT",
        ),
    ),
    Migration(
        6,
        "running statistics of a person's voice cues, kept under their baseline grant",
        (
            """CREATE TABLE cue_baselines (
                person_id BIGINT PRIMARY KEY
                    REFERENCES baseline_consents (person_id) ON DELETE CASCADE,
                stats BYTEA NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
    Migration(
        7,
        "a person's own words for labels, shown to them in place of the canonical names",
        (
            """CREATE TABLE label_words (
                person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                label TEXT NOT NULL,
                word TEXT NOT NULL CHECK (length(word) BETWEEN 1 AND 32),
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (person_id, label)
            )""",
        ),
    ),
    Migration(
        8,
        "a person's choice to see their notes' words, and a group's permission for it",
        (
            """CREATE TABLE transcript_choices (
                person_id BIGINT PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                given_at DOUBLE PRECISION NOT NULL
            )""",
            "ALTER TABLE chat_settings ADD COLUMN transcript INTEGER NOT NULL DEFAULT 0",
        ),
    ),
    Migration(
        9,
        "practice mode: a person's open practice session, its tally, and their score per tone",
        (
            """CREATE TABLE practice_sessions (
                person_id BIGINT PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                tone TEXT NOT NULL,
                sentence INTEGER NOT NULL CHECK (sentence >= 0),
                rounds INTEGER NOT NULL DEFAULT 0 CHECK (rounds >= 0),
                started_at DOUBLE PRECISION NOT NULL,
                active_at DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE practice_session_tones (
                person_id BIGINT NOT NULL
                    REFERENCES practice_sessions (person_id) ON DELETE CASCADE,
                tone TEXT NOT NULL,
                attempts INTEGER NOT NULL CHECK (attempts >= 0),
                hits INTEGER NOT NULL CHECK (hits >= 0 AND hits <= attempts),
                PRIMARY KEY (person_id, tone)
            )""",
            """CREATE TABLE practice_scores (
                person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                tone TEXT NOT NULL,
                attempts INTEGER NOT NULL CHECK (attempts >= 0),
                hits INTEGER NOT NULL CHECK (hits >= 0 AND hits <= attempts),
                last_practised_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (person_id, tone)
            )""",
        ),
    ),
    Migration(
        10,
        "music for the mood: a person's choice (match or lift) and the last songs suggested",
        (
            """CREATE TABLE music_choices (
                person_id BIGINT PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                mode TEXT NOT NULL DEFAULT 'match' CHECK (mode IN ('match', 'lift')),
                last_songs TEXT NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
    Migration(
        11,
        "donated audio kept in the database, for PostgreSQL replicas that share no folder",
        (
            """CREATE TABLE note_audio (
                note_id BIGINT PRIMARY KEY REFERENCES notes (id) ON DELETE CASCADE,
                data BYTEA NOT NULL
            )""",
        ),
    ),
    Migration(
        12,
        "a person's notes' embeddings for their corrections to teach, kept under their baseline grant",
        (
            """CREATE TABLE correction_notes (
                note_id BIGINT PRIMARY KEY REFERENCES notes (id) ON DELETE CASCADE,
                person_id BIGINT NOT NULL
                    REFERENCES baseline_consents (person_id) ON DELETE CASCADE,
                model TEXT NOT NULL,
                dim INTEGER NOT NULL CHECK (dim > 0),
                embedding BYTEA NOT NULL,
                probabilities TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX correction_notes_person ON correction_notes (person_id, note_id)",
        ),
    ),
    Migration(
        13,
        "a person's choice to have the faces in their video notes read, and its one hint",
        (
            """CREATE TABLE face_choices (
                person_id BIGINT PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
                given_at DOUBLE PRECISION,
                hinted_at DOUBLE PRECISION
            )""",
        ),
    ),
    Migration(
        14,
        "running statistics of the notes analysed per language, and who is counted among them",
        (
            """CREATE TABLE language_stats (
                language TEXT NOT NULL PRIMARY KEY,
                model TEXT NOT NULL,
                dim INTEGER NOT NULL CHECK (dim > 0),
                count INTEGER NOT NULL CHECK (count > 0),
                people INTEGER NOT NULL CHECK (people >= 0),
                stats BYTEA NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE language_stats_people (
                person_id BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
                language TEXT NOT NULL REFERENCES language_stats (language) ON DELETE CASCADE,
                PRIMARY KEY (person_id, language)
            )""",
        ),
    ),
    Migration(
        15,
        "PostgreSQL: a known person's note stored in one trip to the server (a function)",
        (
            # storage/notes.py's statement (consent.MAY_STORE_SQL inside) behind the write lock
            # taken shared (storage/backends/postgres.py's WRITE_LOCK, 0x766D0001), in one call:
            # BEGIN and the lock, the statement and COMMIT were three trips. PL/pgSQL, because
            # under READ COMMITTED each statement of a volatile function takes a new snapshot, so
            # the INSERT sees every write committed before the lock was granted, as after BEGIN.
            # A note with audio its speaker donates is not stored here (no row back): the caller
            # keeps both in one transaction, as does a refused note's, which says why.
            """CREATE FUNCTION voicemood_store_note(
                p_person BIGINT, p_chat BIGINT, p_message TEXT, p_created DOUBLE PRECISION,
                p_duration DOUBLE PRECISION, p_model TEXT, p_label TEXT,
                p_confidence DOUBLE PRECISION, p_probs TEXT, p_answer TEXT, p_has_audio BOOLEAN
            ) RETURNS TABLE (note_id BIGINT, note_audio_path TEXT, note_reply_message_id TEXT)
            LANGUAGE plpgsql VOLATILE AS $$
            #variable_conflict use_column
            BEGIN
                PERFORM pg_advisory_xact_lock_shared(1986854913);
                RETURN QUERY
                INSERT INTO notes AS n (person_id, chat_id, platform_message_id, created_at,
                                        duration_s, model, label, confidence, probabilities,
                                        answer_text)
                SELECT p_person, c.id, p_message, p_created, p_duration, p_model, p_label,
                       p_confidence, p_probs, p_answer
                FROM chats c LEFT JOIN chat_settings s ON s.chat_id = c.id
                WHERE c.id = p_chat
                  AND EXISTS (SELECT 1 FROM persons WHERE id = p_person)
                  AND (c.kind = 'private' OR (COALESCE(s.analysis, 1) = 1
                       AND EXISTS (SELECT 1 FROM consents WHERE person_id = p_person
                           AND kind = 'analyse' AND chat_id = p_chat AND withdrawn_at IS NULL)))
                  AND NOT (p_has_audio AND EXISTS (SELECT 1 FROM consents
                       WHERE person_id = p_person AND kind = 'donate_audio'
                       AND withdrawn_at IS NULL))
                ON CONFLICT (chat_id, platform_message_id) DO UPDATE SET
                    created_at = excluded.created_at, duration_s = excluded.duration_s,
                    model = excluded.model, label = excluded.label,
                    confidence = excluded.confidence, probabilities = excluded.probabilities,
                    answer_text = excluded.answer_text
                WHERE n.person_id = excluded.person_id
                RETURNING n.id, n.audio_path, n.reply_message_id;
            END
            $$""",
        ),
    ),
    # Step 16 onwards: the twin of each new SQLite step goes here, with the same number and words.
)

LATEST_VERSION = POSTGRES_MIGRATIONS[-1].version  # equal to storage.migrations.LATEST_VERSION


async def migrate(conn: asyncpg.Connection) -> int:
    """Apply every step newer than the database's version, each in its own transaction.

    Returns the version found. Refuses (SchemaTooNew) a database a newer VoiceMood wrote.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), version INTEGER NOT NULL)"
        )
        await conn.execute("INSERT INTO schema_version VALUES (TRUE, 0) ON CONFLICT DO NOTHING")
    found, latest = await schema_version(conn), POSTGRES_MIGRATIONS[-1].version
    if found > latest:
        raise SchemaTooNew(
            f"This database has schema version {found}, newer than this VoiceMood knows "
            f"({latest}); upgrade VoiceMood instead of opening it here.",
            found=found,
            latest=latest,
        )
    for step in POSTGRES_MIGRATIONS:
        if step.version > found:
            await _apply(conn, step)
    return found


async def schema_version(conn: asyncpg.Connection) -> int:
    value = await conn.fetchval("SELECT version FROM schema_version")
    return int(value) if value is not None else 0


async def _apply(conn: asyncpg.Connection, step: Migration) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
        if await schema_version(conn) >= step.version:
            return  # another process applied it while this one waited for the lock
        for statement in step.statements:
            await conn.execute(statement)
        await conn.execute("UPDATE schema_version SET version = $1", step.version)

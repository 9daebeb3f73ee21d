"""Schema migrations on real SQLite files: from nothing, from version-1 to -6 files, refusals."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, time

import numpy as np
import pytest

from storage import migrations
from storage.errors import NotConsented, SchemaTooNew
from storage.migrations import LATEST_VERSION, Migration
from storage.models import ChatSettings, StoredBaseline
from storage.store import Store
from tests.storage_factory import add_note, open_store

# The schema as version 1 shipped it, frozen here on purpose: if someone edits step 1 in place
# instead of appending a step, files in the wild no longer match the code and this test says so.
V1_SCHEMA = """
CREATE TABLE persons (
    id INTEGER PRIMARY KEY AUTOINCREMENT, platform TEXT NOT NULL, platform_user_id TEXT NOT NULL,
    created_at REAL NOT NULL, UNIQUE (platform, platform_user_id));
CREATE TABLE chats (
    id INTEGER PRIMARY KEY AUTOINCREMENT, platform TEXT NOT NULL, platform_chat_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('private', 'group')),
    owner_id INTEGER REFERENCES persons (id) ON DELETE CASCADE, created_at REAL NOT NULL,
    UNIQUE (platform, platform_chat_id));
CREATE INDEX chats_by_owner ON chats (owner_id);
CREATE TABLE consents (
    id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('analyse', 'donate_audio')),
    chat_id INTEGER REFERENCES chats (id) ON DELETE CASCADE, given_at REAL NOT NULL,
    withdrawn_at REAL, CHECK ((kind = 'analyse') = (chat_id IS NOT NULL)));
CREATE UNIQUE INDEX consents_one_active
    ON consents (person_id, kind, IFNULL(chat_id, 0)) WHERE withdrawn_at IS NULL;
CREATE INDEX consents_by_person ON consents (person_id, kind);
CREATE INDEX consents_by_chat ON consents (chat_id);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    platform_message_id TEXT NOT NULL, created_at REAL NOT NULL, duration_s REAL NOT NULL,
    model TEXT NOT NULL, label TEXT NOT NULL, confidence REAL NOT NULL,
    probabilities TEXT NOT NULL CHECK (json_valid(probabilities)), audio_path TEXT,
    UNIQUE (chat_id, platform_message_id));
CREATE INDEX notes_by_chat_time ON notes (chat_id, created_at);
CREATE INDEX notes_by_person ON notes (person_id);
CREATE TABLE votes (
    id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    voter_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE, label TEXT NOT NULL,
    created_at REAL NOT NULL, UNIQUE (note_id, voter_id));
CREATE INDEX votes_by_voter ON votes (voter_id);
PRAGMA user_version = 1;
"""

V1_ROWS = """
INSERT INTO persons VALUES (1, 'telegram', '1001', 1700000000.0), (2, 'telegram', '1002', 1700000001.0);
INSERT INTO chats VALUES (1, 'telegram', '-500', 'group', NULL, 1700000000.0);
INSERT INTO consents VALUES (1, 1, 'analyse', 1, 1700000002.0, NULL);
INSERT INTO notes VALUES (1, 1, 1, '77', 1700000003.0, 4.0, 'old-model', 'sad', 0.6,
                          '{"sad": 0.6, "neutral": 0.4}', NULL);
INSERT INTO votes VALUES (1, 1, 2, 'angry', 1700000004.0);
"""

# What step 2 added, frozen here for the same reason as V1_SCHEMA.
V2_STEP = """
ALTER TABLE persons ADD COLUMN language TEXT;
ALTER TABLE persons ADD COLUMN display_name TEXT;
ALTER TABLE notes ADD COLUMN reply_message_id TEXT;
CREATE UNIQUE INDEX notes_by_reply ON notes (chat_id, reply_message_id)
    WHERE reply_message_id IS NOT NULL;
ALTER TABLE votes ADD COLUMN intensity REAL
    CHECK (intensity IS NULL OR (intensity >= 0 AND intensity <= 1));
CREATE TABLE chat_settings (
    chat_id INTEGER PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
    analysis INTEGER NOT NULL DEFAULT 1 CHECK (analysis IN (0, 1)),
    digest INTEGER NOT NULL DEFAULT 0 CHECK (digest IN (0, 1)),
    digest_time TEXT CHECK (digest_time IS NULL OR digest_time GLOB '[0-2][0-9]:[0-5][0-9]'),
    language TEXT, updated_at REAL NOT NULL);
CREATE INDEX chat_settings_with_digest ON chat_settings (chat_id) WHERE digest = 1;
PRAGMA user_version = 2;
"""

V2_ROWS = """
INSERT INTO persons (id, platform, platform_user_id, created_at, language, display_name)
    VALUES (1, 'discord', '2001', 1700000000.0, 'ko', 'Minjun'),
           (2, 'discord', '2002', 1700000001.0, NULL, 'Alice');
INSERT INTO chats VALUES (1, 'discord', '900', 'group', NULL, 1700000000.0);
INSERT INTO consents VALUES (1, 1, 'analyse', 1, 1700000002.0, NULL);
INSERT INTO notes (id, person_id, chat_id, platform_message_id, created_at, duration_s, model,
                   label, confidence, probabilities, audio_path, reply_message_id)
    VALUES (1, 1, 1, '77', 1700000003.0, 4.0, 'old-model', 'sad', 0.6,
            '{"sad": 0.6, "neutral": 0.4}', NULL, '78');
INSERT INTO votes (id, note_id, voter_id, label, created_at, intensity)
    VALUES (1, 1, 2, 'angry', 1700000004.0, 0.5);
INSERT INTO chat_settings (chat_id, analysis, digest, digest_time, language, updated_at)
    VALUES (1, 1, 1, '21:30', 'ko', 1700000005.0);
"""


# What step 3 added, frozen here for the same reason as V1_SCHEMA.
V3_STEP = """
ALTER TABLE chat_settings ADD COLUMN digest_channel TEXT;
PRAGMA user_version = 3;
"""

V3_ROWS = """
INSERT INTO persons (id, platform, platform_user_id, created_at, language, display_name)
    VALUES (1, 'telegram', '3001', 1700000000.0, NULL, 'Bora');
INSERT INTO consents VALUES (1, 1, 'donate_audio', NULL, 1700000002.0, NULL);
"""

# What step 4 added, frozen here for the same reason as V1_SCHEMA.
V4_STEP = """
CREATE TABLE baseline_consents (
    person_id INTEGER PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
    given_at REAL NOT NULL);
CREATE TABLE baselines (
    person_id INTEGER PRIMARY KEY REFERENCES baseline_consents (person_id) ON DELETE CASCADE,
    encoder TEXT NOT NULL, dim INTEGER NOT NULL CHECK (dim > 0),
    count INTEGER NOT NULL CHECK (count >= 0), stats BLOB NOT NULL, updated_at REAL NOT NULL);
PRAGMA user_version = 4;
"""


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _version(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


async def test_empty_file_is_created_at_the_latest_version_in_wal_mode(tmp_path):
    async with await open_store(tmp_path):
        pass
    path = tmp_path / "db" / "voicemood.sqlite3"
    assert _version(path) == LATEST_VERSION
    assert {"persons", "chats", "consents", "notes", "votes", "chat_settings"} <= _tables(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_reopening_keeps_the_data_and_the_version(tmp_path):
    async with await open_store(tmp_path) as store:
        person = await store.ensure_person("telegram", 42)
    async with await open_store(tmp_path) as store:
        again = await store.get_person("telegram", "42")
    assert again == person
    assert _version(tmp_path / "db" / "voicemood.sqlite3") == LATEST_VERSION


async def test_version_one_file_is_upgraded_in_place_and_keeps_its_rows(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA + V1_ROWS)
    assert _version(path) == 1

    async with await open_store(tmp_path) as store:
        speaker = await store.get_person("telegram", "1001")
        voter = await store.get_person("telegram", "1002")
        assert speaker is not None and voter is not None
        assert (speaker.language, speaker.display_name) == (None, None)
        chat = await store.get_chat(1)
        note = await store.get_note(1)
        assert (note.label, note.probabilities, note.model) == (
            "sad",
            {"sad": 0.6, "neutral": 0.4},
            "old-model",
        )
        # The version-1 consent and vote still count after the upgrade.
        assert await store.may_analyse(speaker, chat)
        assert [(v.label, v.intensity) for v in await store.votes(1)] == [("angry", None)]
        assert await store.final_label(1) == "angry"
        # And what version 2 added works on the upgraded file.
        assert (await store.set_language(speaker, "ko")).language == "ko"
        await store.set_reply_message(1, "78")
        assert (await store.find_note_by_reply(chat, "78")) == await store.get_note(1)
        await store.vote(voter, 1, "sad", intensity=0.8)
        assert [(v.label, v.intensity) for v in await store.votes(1)] == [("sad", 0.8)]
        settings = ChatSettings(analysis=False, digest=True, digest_time=time(20, 30))
        await store.set_chat_settings(chat, settings)
        assert await store.chat_settings(chat) == settings
        assert not await store.may_analyse(speaker, chat)

    assert _version(path) == LATEST_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


async def test_version_two_file_is_upgraded_in_place_and_keeps_its_rows_and_digest(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA + V2_STEP + V2_ROWS)
    assert _version(path) == 2

    async with await open_store(tmp_path) as store:
        speaker = await store.get_person("discord", "2001")
        voter = await store.get_person("discord", "2002")
        assert speaker is not None and voter is not None
        assert (speaker.language, speaker.display_name) == ("ko", "Minjun")
        chat = await store.get_chat(1)
        note = await store.get_note(1)
        assert (note.label, note.probabilities, note.reply_message_id) == (
            "sad",
            {"sad": 0.6, "neutral": 0.4},
            "78",
        )
        assert await store.find_note_by_reply(chat, "78") == note
        assert await store.may_analyse(speaker, chat)
        assert [(v.label, v.intensity) for v in await store.votes(1)] == [("angry", 0.5)]
        # A digest switched on under version 2 stays on, with no channel remembered for it.
        kept = ChatSettings(digest=True, digest_time=time(21, 30), language="ko")
        assert await store.chat_settings(chat) == kept
        (scheduled,) = await store.scheduled_digests()
        assert (scheduled.chat, scheduled.settings) == (chat, kept)
        # And what version 3 added works on the upgraded file.
        moved = replace(kept, digest_channel="901")
        assert await store.set_chat_settings(chat, moved) == moved
        assert await store.chat_settings(chat) == moved

    assert _version(path) == LATEST_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 1


async def test_version_three_file_gets_voice_baselines_that_start_off(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA + V2_STEP + V3_STEP + V3_ROWS)
    assert _version(path) == 3

    async with await open_store(tmp_path) as store:
        bora = await store.get_person("telegram", "3001")
        assert bora is not None and await store.may_keep_audio(bora)
        # Nobody is opted in by the upgrade: the baseline asks for its own consent.
        assert await store.baseline_consent(bora) is None
        with pytest.raises(NotConsented):
            await store.update_baseline(bora, "enc", lambda _: StoredBaseline("enc", 1, 2, b"x"))
        given = await store.give_baseline_consent(bora)
        await store.update_baseline(bora, "enc", lambda _: StoredBaseline("enc", 1, 2, b"x" * 16))
        kept = await store.baseline(bora, "enc")
        assert kept is not None and (kept.count, kept.dim, kept.stats) == (1, 2, b"x" * 16)
        assert await store.baseline_consent(bora) == given
        # The donation consent is untouched by the new, separate grant.
        assert await store.withdraw_baseline_consent(bora)
        assert await store.may_keep_audio(bora)

    assert _version(path) == LATEST_VERSION == 15
    assert _version(path) == LATEST_VERSION
    assert {"baselines", "baseline_consents"} <= _tables(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("SELECT count(*) FROM baselines").fetchone()[0] == 0


async def test_version_four_file_keeps_its_notes_and_claims_each_days_digest_once(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA + V2_STEP + V2_ROWS + V3_STEP + V4_STEP)
    assert _version(path) == 4

    async with await open_store(tmp_path) as store:
        chat = await store.get_chat(1)
        note = await store.get_note(1)
        first = await store.claim_digest(chat, date(2030, 1, 1))
        again = await store.claim_digest(chat, date(2030, 1, 1))
        next_day = await store.claim_digest(chat, date(2030, 1, 2))
        earlier = await store.claim_digest(chat, date(2030, 1, 1))
        (scheduled,) = await store.scheduled_digests()

    # A note from before answers were kept has none: edits fall back to the message's text.
    assert (note.label, note.reply_message_id, note.answer_text) == ("sad", "78", None)
    assert (first, again, next_day, earlier) == (True, False, True, False)
    assert scheduled.settings.digest_time == time(21, 30)
    assert _version(path) == LATEST_VERSION == 15
    assert _version(path) == LATEST_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


async def test_a_digest_switched_off_cannot_be_claimed(tmp_path):
    async with await open_store(tmp_path) as store:
        chat = await store.ensure_chat("telegram", "-1", "group")
        await store.set_chat_settings(chat, ChatSettings(digest=False))
        claimed = await store.claim_digest(chat, date(2030, 1, 1))

    assert not claimed


async def test_file_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    with pytest.raises(SchemaTooNew) as caught:
        await open_store(tmp_path)
    assert caught.value.code == "schema_too_new"
    assert str(LATEST_VERSION + 5) in str(caught.value)
    assert _version(path) == LATEST_VERSION + 5
    assert _tables(path) == set()


async def test_failing_step_rolls_back_whole_and_keeps_the_old_version(tmp_path, monkeypatch):
    async with await open_store(tmp_path) as store:
        await store.ensure_person("discord", "9")
    broken = Migration(
        LATEST_VERSION + 1,
        "a step that fails half way",
        ("CREATE TABLE half_done (x INTEGER)", "ALTER TABLE no_such_table ADD COLUMN y TEXT"),
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    with pytest.raises(sqlite3.OperationalError):
        await Store.open(tmp_path / "db" / "voicemood.sqlite3", tmp_path / "data")
    path = tmp_path / "db" / "voicemood.sqlite3"
    assert _version(path) == LATEST_VERSION
    assert "half_done" not in _tables(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT platform_user_id FROM persons").fetchall() == [("9",)]


async def test_version_five_file_keeps_its_baseline_and_gets_cue_statistics_under_the_same_grant(
    tmp_path,
):
    path = tmp_path / "db" / "voicemood.sqlite3"
    async with await open_store(tmp_path) as store:
        bora = await store.ensure_person("telegram", "5001")
        await store.give_baseline_consent(bora)
        await store.update_baseline(bora, "enc", lambda _: StoredBaseline("enc", 1, 2, b"x" * 16))
    # What a version-5 file looks like: everything but steps 6 to 9.
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE cue_baselines")
        db.execute("DROP TABLE label_words")
        db.execute("DROP TABLE transcript_choices")
        db.execute("ALTER TABLE chat_settings DROP COLUMN transcript")
        _drop_practice(db)
        db.execute("PRAGMA user_version = 5")

    async with await open_store(tmp_path) as store:
        bora = await store.get_person("telegram", "5001")
        assert (await store.baseline(bora, "enc")).count == 1
        assert await store.cue_baseline(bora) is None
        assert await store.update_cue_baseline(bora, lambda _: b"c" * 8) == b"c" * 8
        assert await store.withdraw_baseline_consent(bora)
        assert await store.cue_baseline(bora) is None  # the grant's end takes the cues too
        with pytest.raises(NotConsented):
            await store.update_cue_baseline(bora, lambda _: b"c" * 8)

    assert _version(path) == LATEST_VERSION


async def test_version_six_file_keeps_its_notes_and_gets_a_persons_own_words_for_labels(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    async with await open_store(tmp_path) as store:
        bora = await store.ensure_person("telegram", "5001")
        chat = await store.ensure_chat("telegram", "5001", "private", owner=bora)
        await add_note(store, bora, chat, 11, label="angry")
    # What a version-6 file looks like: everything but steps 7 and 8.
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE label_words")
        db.execute("DROP TABLE transcript_choices")
        db.execute("ALTER TABLE chat_settings DROP COLUMN transcript")
        _drop_practice(db)
        db.execute("PRAGMA user_version = 6")

    async with await open_store(tmp_path) as store:
        bora = await store.get_person("telegram", "5001")
        assert await store.label_words(bora) == {}
        assert await store.set_label_word(bora, "angry", "tense") == "tense"
        assert await store.label_words(bora) == {"angry": "tense"}
        # The canonical label stays on the note underneath.
        assert [n.label for n in await store.person_notes(bora)] == ["angry"]

    assert _version(path) == LATEST_VERSION == 15
    assert _version(path) == LATEST_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


async def test_version_seven_file_gets_transcripts_off_for_people_and_chats_until_switched_on(
    tmp_path,
):
    path = tmp_path / "db" / "voicemood.sqlite3"
    async with await open_store(tmp_path) as store:
        bora = await store.ensure_person("telegram", "6001")
        group = await store.ensure_chat("telegram", "-6001", "group")
        await store.set_chat_settings(group, ChatSettings(language="ko"))
    # What a version-7 file looks like: everything but step 8.
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE transcript_choices")
        db.execute("ALTER TABLE chat_settings DROP COLUMN transcript")
        _drop_practice(db)
        db.execute("PRAGMA user_version = 7")

    async with await open_store(tmp_path) as store:
        bora = await store.get_person("telegram", "6001")
        group = await store.ensure_chat("telegram", "-6001", "group")
        settings = await store.chat_settings(group)
        assert settings.language == "ko" and settings.transcript is False
        assert await store.transcript_on(bora) is False
        await store.set_transcript(bora, True)
        await store.set_chat_settings(group, replace(settings, transcript=True))
        assert await store.transcript_on(bora)
        assert (await store.chat_settings(group)).transcript
        await store.forget_person("telegram", "6001")
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT count(*) FROM transcript_choices").fetchone() == (0,)

    assert _version(path) == LATEST_VERSION


def _drop_practice(db: sqlite3.Connection) -> None:
    """Undo step 9 (practice mode) and the steps after it, for tests that build an older file
    from a new one."""
    _drop_corrections(db)  # step 12
    db.execute("DROP TABLE music_choices")  # step 10
    for table in ("practice_session_tones", "practice_sessions", "practice_scores"):
        db.execute(f"DROP TABLE {table}")
    db.execute("DROP TABLE note_audio")  # step 11


def _drop_corrections(db: sqlite3.Connection) -> None:
    """Undo step 12 (the notes corrections teach from), step 13 (the /face choice) and step 14
    (the language statistics)."""
    db.execute("DROP TABLE correction_notes")
    db.execute("DROP TABLE face_choices")
    db.execute("DROP TABLE language_stats_people")
    db.execute("DROP TABLE language_stats")


async def test_version_eleven_file_gets_correction_notes_under_the_baseline_grant(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    async with await open_store(tmp_path) as store:
        bora = await store.ensure_person("telegram", "9001")
        chat = await store.ensure_chat("telegram", "9001", "private", owner=bora)
        note = await add_note(store, bora, chat, 11, label="angry")
        await store.give_baseline_consent(bora)
    with sqlite3.connect(path) as db:
        _drop_corrections(db)
        db.execute("PRAGMA user_version = 11")

    async with await open_store(tmp_path) as store:
        bora = await store.get_person("telegram", "9001")
        assert await store.corrections.notes(bora) == []
        await store.corrections.keep(bora, note.id, "m", np.ones(3, np.float32), {"angry": 1.0})
        await store.vote(bora, note.id, "sad")
        assert [c.label for c in await store.corrections.corrections(bora, "m", 5)] == ["sad"]
    assert _version(path) == LATEST_VERSION


async def test_version_eight_file_gets_practice_tables_that_start_empty(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    async with await open_store(tmp_path) as store:
        bora = await store.ensure_person("telegram", "8001")
        await store.set_transcript(bora, True)
    with sqlite3.connect(path) as db:
        _drop_practice(db)
        db.execute("PRAGMA user_version = 8")

    async with await open_store(tmp_path) as store:
        bora = await store.get_person("telegram", "8001")
        assert bora is not None and await store.transcript_on(bora)
        assert await store.practice.session(bora) is None
        assert await store.practice.scores(bora) == []
        await store.practice.start_round(bora, "calm", 2)
        score = await store.practice.record_attempt(bora, "calm", hit=True)
        assert score is not None and (score.attempts, score.hits) == (1, 1)
        ended = await store.practice.end(bora)
        assert ended is not None and ended.session.tallies[0].hits == 1
        assert await store.practice.session(bora) is None
        # Nothing is counted once the session is closed.
        assert await store.practice.record_attempt(bora, "calm", hit=True) is None
    assert _version(path) == LATEST_VERSION == 15
    assert _version(path) == LATEST_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("SELECT count(*) FROM practice_session_tones").fetchone()[0] == 0

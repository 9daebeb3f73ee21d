"""'Forget me' deletes everything a person owns, and a scan of the database and folder finds nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.models import StoredBaseline
from tests.storage_factory import add_note, open_store, raw_rows, table_columns

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")

# Distinctive values, so finding any of them anywhere means something of Alice was left behind.
ALICE = "5550001234"  # her user id, and (as on Telegram) her private chat's id
ALICE_MESSAGES = ("880000111", "880000222", "880000333")
ALICE_NAME = "Alice Quxworthy"
ALICE_REPLY = "990000444"  # the bot's answer to her private note
ALICE_PROBS = {"sad": 0.7137137, "neutral": 0.2862863}
ALICE_AUDIO = (b"OggS-alice-group-" * 64, b"OggS-alice-private-" * 64)
CAROL_AUDIO = b"OggS-carol-" * 64
# Her voice baseline's statistics, as distinctive bytes; an encoder name only she used.
ALICE_STATS = b"alice-usual-voice-stats-" * 8
ALICE_ENCODER = "encoder-of-alice-only"
BOB_STATS = b"bob-usual-voice-stats"
# Her voice cues' running statistics (kept under the same baseline grant).
ALICE_CUE_STATS = b"alice-usual-cue-stats-" * 8
# Her own word for a label (/words), and Bob's, which stays.
ALICE_WORD = "alicewordquux"
BOB_WORD = "bobsword"


async def _fill(store):
    """Alice, Bob and Carol in one group; Alice also talks to the bot privately."""
    group = await store.ensure_chat("telegram", -100777, "group")
    alice = await store.ensure_person("telegram", ALICE, display_name=ALICE_NAME)
    bob = await store.ensure_person("telegram", 2002)
    carol = await store.ensure_person("telegram", 3003)
    private = await store.ensure_chat("telegram", ALICE, "private", owner=alice)
    for person in (alice, bob, carol):
        await store.give_consent(person, "analyse", group)
    await store.give_consent(alice, "donate_audio")
    await store.give_consent(carol, "donate_audio")
    for person, stats, encoder in ((alice, ALICE_STATS, ALICE_ENCODER), (bob, BOB_STATS, "enc")):
        await store.give_baseline_consent(person)
        await store.update_baseline(
            person, encoder, lambda _, s=stats, e=encoder: StoredBaseline(e, 3, 4, s)
        )
    await store.update_cue_baseline(alice, lambda _: ALICE_CUE_STATS)
    await store.update_cue_baseline(bob, lambda _: BOB_STATS)
    await store.set_transcript(alice, True)
    await store.set_transcript(bob, True)
    await store.set_language(alice, "ko")
    await store.set_label_word(alice, "angry", ALICE_WORD)
    await store.set_label_word(bob, "angry", BOB_WORD)
    for person, tone in ((alice, "surprised"), (bob, "calm")):  # practice: Bob's stays
        await store.practice.start_round(person, tone, 3)
        await store.practice.record_attempt(person, tone, hit=True)
    for person in (alice, bob):  # music: Bob's choice stays
        await store.music.set_mode(person, "lift")
        await store.music.remember(person, ["pmemo:1", "film:2"])
    settings = await store.chat_settings(private)
    await store.set_chat_settings(private, type(settings)(language="ko", digest=True))

    a1 = await add_note(
        store, alice, group, ALICE_MESSAGES[0], probabilities=ALICE_PROBS, audio=ALICE_AUDIO[0]
    )
    a2 = await add_note(store, alice, group, ALICE_MESSAGES[1], probabilities=ALICE_PROBS)
    a3 = await add_note(
        store, alice, private, ALICE_MESSAGES[2], probabilities=ALICE_PROBS, audio=ALICE_AUDIO[1]
    )
    await store.set_reply_message(a3.id, ALICE_REPLY)
    b1 = await add_note(store, bob, group, 501, label="calm")
    c1 = await add_note(store, carol, group, 502, label="angry", audio=CAROL_AUDIO)

    await store.vote(bob, a1.id, "angry")  # others' votes on Alice's notes go with the notes
    await store.vote(carol, a2.id, "happy")
    await store.vote(alice, b1.id, "sad")  # Alice's own vote on Bob's note goes
    await store.vote(carol, b1.id, "calm")  # these two stay
    await store.vote(bob, c1.id, "angry")
    return alice, bob, carol, group, (a1, a2, a3), b1, c1


async def test_forget_me_deletes_everything_the_person_owns_and_keeps_the_rest(
    tmp_path, storage_backend
):
    async with await open_store(tmp_path) as store:
        alice, bob, carol, group, alice_notes, b1, c1 = await _fill(store)
        alice_dir = tmp_path / "data" / "audio" / "telegram" / str(alice.id)
        # Her donated audio: files beside SQLite, rows of PostgreSQL (no folder at all).
        assert alice_dir.is_dir() == (storage_backend == "sqlite")
        assert [await store.notes.audio(n) for n in alice_notes] == [
            *ALICE_AUDIO[:1],
            None,
            ALICE_AUDIO[1],
        ]

        report = await store.forget_person("telegram", ALICE)

        assert report.found
        assert (report.notes, report.votes_cast, report.votes_on_their_notes) == (3, 1, 2)
        assert (report.consents, report.chats, report.audio_files) == (2, 1, 2)
        assert report.baselines == 1
        assert await store.get_person("telegram", ALICE) is None
        # Bob's and Carol's notes, votes on them, consent and donated audio are untouched.
        assert [(v.voter_id, v.label) for v in await store.votes(b1.id)] == [(carol.id, "calm")]
        assert [(v.voter_id, v.label) for v in await store.votes(c1.id)] == [(bob.id, "angry")]
        assert [n.id for n in await store.chat_notes(group)] == [b1.id, c1.id]
        assert await store.may_analyse(bob, group) and await store.may_keep_audio(carol)
        bob_baseline = await store.baseline(bob, "enc")
        assert bob_baseline is not None and bob_baseline.stats == BOB_STATS
        assert await store.label_words(bob) == {"angry": BOB_WORD}
        assert await store.cue_baseline(bob) == BOB_STATS
        assert await store.transcript_on(bob)
        assert await store.notes.audio(c1) == CAROL_AUDIO

        # Scanned while the store is still open: the live file and its WAL hold nothing of hers.
        await _assert_nothing_of_alice(tmp_path, alice.id, storage_backend)
        assert (await store.forget_person("telegram", ALICE)).found is False
    await _assert_nothing_of_alice(tmp_path, alice.id, storage_backend)
    if storage_backend == "postgres":
        await _assert_no_version_of_alice_in_postgres_pages(tmp_path)


async def _assert_nothing_of_alice(root: Path, alice_id: int, backend: str) -> None:
    needles = [ALICE, *ALICE_MESSAGES, ALICE_NAME, ALICE_REPLY, "0.7137137"]
    needles += [ALICE_ENCODER, ALICE_STATS.decode(), ALICE_CUE_STATS.decode(), ALICE_WORD]
    needles += [audio.decode() for audio in ALICE_AUDIO]  # PostgreSQL kept them in rows

    # Every value of every row of every table, read past the Store.
    for table, columns in (await table_columns(root)).items():
        for row in await raw_rows(root, f'SELECT * FROM "{table}"'):
            for value in row:
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                assert not any(n in text for n in needles), (table, row)
        if "person_id" in columns:
            sql = f'SELECT 1 FROM "{table}" WHERE person_id = ?'
            assert await raw_rows(root, sql, (alice_id,)) == [], table
    assert await raw_rows(root, "SELECT 1 FROM persons WHERE id = ?", (alice_id,)) == []
    assert await raw_rows(root, "SELECT 1 FROM votes WHERE voter_id = ?", (alice_id,)) == []
    for table in (
        "baselines",
        "baseline_consents",
        "cue_baselines",
        "transcript_choices",
        "practice_sessions",
        "practice_session_tones",
        "practice_scores",
        "music_choices",
    ):
        assert await raw_rows(root, f"SELECT count(*) FROM {table}") == [(1,)], table  # Bob's

    if backend == "sqlite":
        db_path = root / "db" / "voicemood.sqlite3"
        with sqlite3.connect(db_path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        # Raw bytes: deleted rows are zeroed (secure_delete) and the WAL was checkpointed away.
        for path in db_path.parent.iterdir():
            raw = path.read_bytes()
            for needle in needles:
                assert needle.encode() not in raw, (path.name, needle)

    for path in (root / "data").rglob("*"):
        assert path.relative_to(root / "data").parts[:3] != ("audio", "telegram", str(alice_id))
        if path.is_file():
            content = path.read_bytes()
            assert not any(audio in content for audio in ALICE_AUDIO), path


async def _assert_no_version_of_alice_in_postgres_pages(root: Path) -> None:
    """No tuple in any table page, live or dead, holds her values: the store VACUUMs after a
    forget, so no tool reading pages (pg_dirtyread, say) finds an old version of her rows.

    Unlike SQLite's secure_delete, PostgreSQL does not zero the freed space, and its WAL keeps
    the old bytes until recycled: see the README's privacy notes.
    """
    await raw_rows(root, "CREATE EXTENSION IF NOT EXISTS pageinspect")
    needles = [ALICE, *ALICE_MESSAGES, ALICE_NAME, ALICE_REPLY, ALICE_ENCODER, ALICE_WORD]
    needles += [ALICE_STATS.decode(), ALICE_CUE_STATS.decode()]
    needles += [audio.decode() for audio in ALICE_AUDIO]
    for table in await table_columns(root):
        (blocks,) = (await raw_rows(root, f"SELECT pg_relation_size('{table}') / 8192"))[0]
        for block in range(int(blocks)):
            tuples = await raw_rows(
                root,
                "SELECT t_data FROM heap_page_items(get_raw_page(?, ?)) WHERE t_data IS NOT NULL",
                (table, block),
            )
            for (data,) in tuples:
                assert not any(n.encode() in bytes(data) for n in needles), (table, block)

"""On PostgreSQL a known person's note is stored in one trip to the server: the function
voicemood_store_note (storage.migrations_postgres, step 15) takes the write lock shared and runs
notes.py's statement, instead of BEGIN and the lock, the statement, COMMIT. Its meaning is the
transaction's (tests/test_storage_note_rule.py runs every consent case through it); these tests
hold the trips and the lock. Real PostgreSQL, real asyncpg (its query logger counts statements).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from inference.labels import CANONICAL_LABELS
from storage.backends.postgres import PostgresBackend
from storage.db import Db
from storage.errors import NotConsented
from storage.store import Store
from tests.storage_factory import add_note

AUDIO = b"OggS a donated note"


@pytest.fixture
async def one_connection(tmp_path, postgres_server):
    """A Store over a pool of one connection, and the statements sent on it (SQL texts)."""
    backend = await PostgresBackend.open(postgres_server.fresh_database(), max_connections=1)
    sent: list[str] = []
    async with backend._pool.acquire() as conn:  # the pool's only connection, for good
        conn.add_query_logger(lambda logged: sent.append(logged.query))
    store = Store(Db(backend, tmp_path / "data", frozenset(CANONICAL_LABELS)))
    try:
        yield store, sent
    finally:
        await store.close()


async def test_a_known_persons_note_is_one_statement_and_its_reply_link_another(one_connection):
    store, sent = one_connection
    person = await store.people.ensure_person("telegram", 31)
    chat = await store.people.ensure_chat("telegram", 31, "private", owner=person)
    await add_note(store, person, chat, 1)  # the statement prepared once per connection
    await asyncio.sleep(0)  # asyncpg logs a statement on the loop's next turn
    sent.clear()

    note = await add_note(store, person, chat, 2, audio=AUDIO)  # not donating: audio not kept
    await store.notes.set_reply_message(note.id, 902)
    await asyncio.sleep(0)

    assert len(sent) == 2, sent  # was four: BEGIN and the lock, the INSERT, COMMIT, the link
    assert "voicemood_store_note" in sent[0]
    stored = await store.notes.get(note.id)
    assert (stored.platform_message_id, stored.reply_message_id) == ("2", "902")
    assert stored.audio_path is None and note.audio_path is None


async def test_a_donors_audio_is_kept_with_its_note_in_one_transaction(one_connection):
    """The function stores nothing when the audio would be kept; the transaction does both."""
    store, sent = one_connection
    donor = await store.people.ensure_person("telegram", 32)
    chat = await store.people.ensure_chat("telegram", 32, "private", owner=donor)
    await store.consent.give(donor, "donate_audio")
    await asyncio.sleep(0)  # asyncpg logs a statement on the loop's next turn
    sent.clear()

    note = await add_note(store, donor, chat, 1, audio=AUDIO)
    await asyncio.sleep(0)

    assert "voicemood_store_note" in sent[0] and sent[1].startswith("BEGIN")
    assert sent[-1] == "COMMIT"
    assert await store.notes.audio(await store.notes.get(note.id)) == AUDIO
    without = await add_note(store, donor, chat, 2)  # no audio handed over: one statement
    await asyncio.sleep(0)
    assert without.audio_path is None and "voicemood_store_note" in sent[-1]


async def test_a_note_waiting_for_a_write_that_runs_alone_sees_what_it_committed(
    tmp_path, postgres_server
):
    """The function takes the lock before its INSERT reads consent: a withdrawal committed while
    the note waited refuses it. (One statement that took the lock inside itself would have read
    consent in a snapshot from before the wait, and stored the note.)"""
    url = postgres_server.fresh_database()
    a, b = [await Store.open(url, tmp_path / name) for name in ("a", "b")]
    try:
        person = await a.people.ensure_person("telegram", 33)
        group = await a.people.ensure_chat("telegram", -33, "group")
        await a.consent.give(person, "analyse", group)
        async with a.notes._db.write() as db:  # a write that runs alone, still open
            await db.execute(
                "UPDATE consents SET withdrawn_at = ? WHERE person_id = ? AND kind = 'analyse'",
                (time.time(), person.id),
            )
            note = asyncio.create_task(add_note(b, person, group, 1))
            await asyncio.sleep(0.5)
            assert not note.done()
        with pytest.raises(NotConsented):
            await asyncio.wait_for(note, timeout=10)
        assert await b.notes.chat_notes(group) == []
    finally:
        await a.close()
        await b.close()

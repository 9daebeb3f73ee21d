"""PostgreSQL's row-safe writes (storage.db): the steps every note takes run side by side across
replicas, kept correct by their rows' unique keys and ON CONFLICT, while every other write still
runs alone. Real PostgreSQL, two Stores on one database (two bot replicas)."""

from __future__ import annotations

import asyncio

import pytest

from storage.store import Store
from tests.storage_factory import add_note

AUDIO = b"OggS-raced-" * 300
RACERS = 12  # tasks per replica, all storing the same first note of the same new person


@pytest.fixture
async def replicas(tmp_path, postgres_server):
    url = postgres_server.fresh_database()
    stores = [await Store.open(url, tmp_path / name) for name in ("a", "b")]
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


async def test_replicas_racing_on_a_new_persons_first_note_make_one_of_each(replicas):
    """Without the unique keys and ON CONFLICT (persons, chats, notes, note_audio) and the
    conditional owner claim, this race makes duplicate rows or fails on a unique violation;
    with them every racer, on either replica, gets the same rows."""
    donor = await replicas[0].ensure_person("telegram", 42)
    await replicas[0].give_consent(donor, "donate_audio")
    go = asyncio.Event()

    async def racer(store: Store, k: int) -> tuple[int, int, int, int]:
        await go.wait()
        person = await store.ensure_person("telegram", 4242, display_name=f"racer {k}")
        chat = await store.ensure_chat("telegram", 4242, "private", owner=person)
        mine = await add_note(store, person, chat, 1)
        private = await store.ensure_chat("telegram", 42, "private", owner=donor)
        donated = await add_note(store, donor, private, 9, audio=AUDIO)
        await store.notes.set_reply_message(donated.id, 900 + k)
        return person.id, chat.id, mine.id, donated.id

    tasks = [asyncio.create_task(racer(store, k)) for k in range(RACERS) for store in replicas]
    await asyncio.sleep(0.1)
    go.set()
    results = await asyncio.gather(*tasks)

    assert len(set(results)) == 1  # every racer saw the same person, chat and notes
    person_id, chat_id, note_id, donated_id = results[0]
    a = replicas[0]
    chat = await a.get_chat(chat_id)
    assert chat.owner_id == person_id
    assert [n.id for n in await a.chat_notes(chat)] == [note_id]
    donated = await a.get_note(donated_id)
    assert await a.notes.audio(donated) == AUDIO
    assert donated.reply_message_id is not None
    counts = await a.notes._db.read(
        "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM chats),"
        " (SELECT count(*) FROM notes), (SELECT count(*) FROM note_audio)"
    )
    assert tuple(counts[0]) == (2, 2, 2, 1)


async def test_row_safe_writes_run_beside_an_open_one_and_other_writes_wait_for_it(replicas):
    a, b = replicas
    person = await a.ensure_person("telegram", 5151)
    chat = await a.ensure_chat("telegram", 5151, "private", owner=person)
    async with a.notes._db.write(row_safe=True):  # one replica's note, still being written
        # The other replica stores notes meanwhile (the single lock made it wait here) ...
        note = await asyncio.wait_for(add_note(b, person, chat, 1), timeout=10)
        # ... but a write that is not row-safe still runs alone.
        grant = asyncio.create_task(b.give_consent(person, "donate_audio"))
        await asyncio.sleep(0.5)
        assert not grant.done()
    await asyncio.wait_for(grant, timeout=10)
    assert note.id > 0 and await b.may_keep_audio(person)


async def test_a_reply_linked_in_one_statement_still_waits_for_a_write_that_runs_alone(replicas):
    """set_reply_message is one statement taking the lock shared itself (Backend.execute_alone):
    without the lock it would finish beside the open write; with it, it waits, then links the
    note's latest version, or finds it gone when that write deleted it."""
    from storage.errors import NoteNotFound

    a, b = replicas
    person = await a.ensure_person("telegram", 5252)
    chat = await a.ensure_chat("telegram", 5252, "private", owner=person)
    kept, dropped = await add_note(a, person, chat, 1), await add_note(a, person, chat, 2)
    async with a.notes._db.write() as db:  # a write that runs alone, still open
        await db.execute("UPDATE notes SET label = 'sad' WHERE id = ?", (kept.id,))
        link = asyncio.create_task(b.notes.set_reply_message(kept.id, 77))
        lost = asyncio.create_task(b.notes.set_reply_message(dropped.id, 78))
        await asyncio.sleep(0.5)
        assert not link.done() and not lost.done()
        await db.execute("DELETE FROM notes WHERE id = ?", (dropped.id,))
    await asyncio.wait_for(link, timeout=10)
    with pytest.raises(NoteNotFound):
        await asyncio.wait_for(lost, timeout=10)
    linked = await b.get_note(kept.id)
    assert (linked.label, linked.reply_message_id) == ("sad", "77")


async def test_execute_alone_refuses_a_statement_it_cannot_take_the_lock_inside(replicas):
    backend = replicas[0].notes._db.backend
    for sql in ("DELETE FROM notes", "UPDATE notes SET label = 'sad' WHERE id = 1 RETURNING id"):
        with pytest.raises(ValueError, match="ending in its WHERE"):
            await backend.execute_alone(sql)

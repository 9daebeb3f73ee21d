"""Donated audio on PostgreSQL lives in the database: two bot replicas with different data folders
share it, /donate off and "forget me" delete it, /export and export-feedback carry it."""

from __future__ import annotations

import base64
import csv

import pytest

from bots.core.my_data import export_document
from storage.export import export_feedback
from storage.store import Store
from tests.storage_factory import add_note, raw_rows

AUDIO = b"OggS-donated-" * 400  # past a page's 2 KB: stored out of line, as real notes are


@pytest.fixture
async def replicas(tmp_path, postgres_server):
    """Two Stores on one PostgreSQL database, each with its own data folder (two machines)."""
    url = postgres_server.fresh_database()
    first = await Store.open(url, tmp_path / "replica-a")
    second = await Store.open(url, tmp_path / "replica-b")
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_a_note_donated_through_one_replica_is_heard_by_another(replicas, tmp_path):
    a, b = replicas
    person = await a.ensure_person("telegram", 7001)
    chat = await a.ensure_chat("telegram", 7001, "private", owner=person)
    await a.give_consent(person, "donate_audio")
    note = await add_note(a, person, chat, 1, audio=AUDIO)
    await b.vote(person, note.id, "sad")

    # Replica B reads it, exports it for retraining and puts it in the person's own copy.
    assert await b.notes.audio(await b.get_note(note.id)) == AUDIO
    manifest = await export_feedback(b, tmp_path / "exported")
    with manifest.open(encoding="utf-8") as file:
        [row] = list(csv.DictReader(file))
    assert (row["label"], row["path"]) == ("sad", note.audio_path)
    assert (manifest.parent / row["path"]).read_bytes() == AUDIO
    document = export_document(await b.privacy.export(person))
    [kept] = document["notes"]
    assert kept["audio_kept"] and kept["audio"]["format"] == "ogg"
    assert base64.b64decode(kept["audio"]["base64"]) == AUDIO
    # Neither machine's folder holds a file: the database is all they share.
    for folder in (tmp_path / "replica-a", tmp_path / "replica-b"):
        assert [p for p in folder.rglob("*") if p.is_file()] == []


async def test_donate_off_on_one_replica_deletes_the_audio_for_all(replicas):
    a, b = replicas
    person = await a.ensure_person("telegram", 7002)
    chat = await a.ensure_chat("telegram", 7002, "private", owner=person)
    await a.give_consent(person, "donate_audio")
    note = await add_note(a, person, chat, 1, audio=AUDIO)
    other = await a.ensure_person("telegram", 7003)
    other_chat = await a.ensure_chat("telegram", 7003, "private", owner=other)
    await a.give_consent(other, "donate_audio")
    kept = await add_note(a, other, other_chat, 1, audio=AUDIO + b"other")

    await b.withdraw_consent(person, "donate_audio")

    assert await a.notes.read_audio(note.id, note.audio_path) is None
    assert (await a.get_note(note.id)).audio_path is None
    assert await raw_note_audio(b) == [(kept.id,)]  # the other donor's stays
    assert await a.notes.audio(kept) == AUDIO + b"other"


async def test_forget_on_one_replica_deletes_the_audio_and_counts_it(replicas):
    a, b = replicas
    person = await a.ensure_person("telegram", 7004)
    chat = await a.ensure_chat("telegram", 7004, "private", owner=person)
    await a.give_consent(person, "donate_audio")
    for message in (1, 2):
        await add_note(a, person, chat, message, audio=AUDIO)

    report = await b.forget_person("telegram", 7004)

    assert (report.notes, report.audio_files) == (2, 2)
    assert await raw_note_audio(a) == []


async def test_files_left_from_before_move_into_the_database_when_a_replica_opens(
    tmp_path, postgres_server
):
    """An upgrade: a PostgreSQL deployment that kept donated audio in a shared folder."""
    url = postgres_server.fresh_database()
    async with await Store.open(url, tmp_path / "shared") as store:
        person = await store.ensure_person("telegram", 7005)
        chat = await store.ensure_chat("telegram", 7005, "private", owner=person)
        await store.give_consent(person, "donate_audio")
        note = await add_note(store, person, chat, 1, audio=AUDIO)
        # As the previous version left it: a file named by the note, no row.
        await store.notes._db.backend.read("DELETE FROM note_audio RETURNING note_id")
        old = tmp_path / "shared" / note.audio_path
        old.parent.mkdir(parents=True)
        old.write_bytes(AUDIO)
        stray = old.with_name("999.ogg")  # named by no note
        stray.write_bytes(b"stray")

    async with await Store.open(url, tmp_path / "shared") as store:
        assert await store.notes.audio(note) == AUDIO
    assert not old.exists() and not stray.exists()


async def raw_note_audio(store: Store) -> list[tuple[int]]:
    records = await store.notes._db.read("SELECT note_id FROM note_audio ORDER BY note_id")
    return [(int(r[0]),) for r in records]


@pytest.mark.usefixtures("storage_backend")
async def test_export_carries_the_donated_recordings_on_either_engine(tmp_path):
    from tests.storage_factory import open_store

    async with await open_store(tmp_path) as store:
        person = await store.ensure_person("telegram", 7006)
        chat = await store.ensure_chat("telegram", 7006, "private", owner=person)
        await add_note(store, person, chat, 1, audio=AUDIO)  # not donated: not kept
        await store.give_consent(person, "donate_audio")
        await add_note(store, person, chat, 2, audio=AUDIO)
        document = export_document(await store.privacy.export(person))
    audio = [n["audio"] for n in document["notes"]]
    assert audio[0] is None and base64.b64decode(audio[1]["base64"]) == AUDIO
    assert await raw_rows(tmp_path, "SELECT count(*) FROM notes") == [(2,)]

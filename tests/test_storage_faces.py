"""The /face choice on both backends: switched on and off, its hint taken once, exported, forgotten;
and a version-12 file upgraded to the step that keeps it, with faces off for everyone."""

from __future__ import annotations

import sqlite3

from bots.core.my_data import export_document
from storage.migrations import LATEST_VERSION
from tests.storage_factory import open_store, raw_rows


async def test_face_reading_is_off_until_switched_on_and_off_again_keeps_the_hint_taken(
    storage_backend, tmp_path
):
    async with await open_store(tmp_path) as store:
        ann = await store.ensure_person("telegram", 1)
        ben = await store.ensure_person("telegram", 2)
        assert await store.faces.reading_on(ann) is False

        await store.faces.set_reading(ann, True)
        since = await store.faces.reading_on_since(ann)
        await store.faces.set_reading(ann, True)  # idempotent: the first grant's time stays
        assert since is not None and await store.faces.reading_on_since(ann) == since
        assert await store.faces.reading_on(ben) is False

        assert await store.faces.take_hint(ann) is True
        assert await store.faces.take_hint(ann) is False  # once
        await store.faces.set_reading(ann, False)
        assert await store.faces.reading_on(ann) is False
        assert await store.faces.take_hint(ann) is False  # switching off does not bring it back
        assert await store.faces.take_hint(ben) is True


async def test_export_shows_the_face_choice_and_forget_deletes_it(storage_backend, tmp_path):
    async with await open_store(tmp_path) as store:
        ann = await store.ensure_person("telegram", 1)
        ben = await store.ensure_person("telegram", 2)
        await store.faces.set_reading(ann, True)
        await store.faces.take_hint(ann)
        await store.faces.set_reading(ben, True)

        exported = export_document(await store.privacy.export(ann))
        assert exported["face"]["on_since"] is not None
        assert exported["face"]["hint_shown"] is not None
        assert "/face" in exported["about"]["face"]

        report = await store.privacy.forget("telegram", 1)
        assert report.found
        assert await raw_rows(tmp_path, "SELECT count(*) FROM face_choices") == [(1,)]  # Ben's
        assert await store.faces.reading_on(ben)


async def test_a_version_twelve_file_gets_face_reading_off_for_everyone(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    async with await open_store(tmp_path) as store:
        bora = await store.ensure_person("telegram", "9001")
        await store.set_transcript(bora, True)
    # What a version-12 file looks like: everything but steps 13 and 14.
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE face_choices")
        db.execute("DROP TABLE language_stats_people")
        db.execute("DROP TABLE language_stats")
        db.execute("PRAGMA user_version = 12")

    async with await open_store(tmp_path) as store:
        bora = await store.get_person("telegram", "9001")
        assert bora is not None and await store.transcript_on(bora)
        assert await store.faces.reading_on(bora) is False
        await store.faces.set_reading(bora, True)
        assert await store.faces.reading_on(bora)

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []

"""A person's music choice and last songs: kept per person, exported, forgotten, upgraded into."""

from __future__ import annotations

import sqlite3

import pytest

from storage import migrations
from storage.errors import InvalidValue, PersonNotFound
from tests.storage_factory import open_store, raw_rows


@pytest.mark.usefixtures("storage_backend")
async def test_mode_starts_at_match_and_the_last_songs_replace_each_other(tmp_path):
    async with await open_store(tmp_path) as store:
        ann = await store.ensure_person("telegram", 1)
        ben = await store.ensure_person("telegram", 2)
        assert await store.music.mode(ann) == "match"
        assert await store.music.choice(ann) is None

        await store.music.remember(ann, ["pmemo:1", "pmemo:4", "film:7"])
        await store.music.set_mode(ann, "lift")
        await store.music.remember(ann, ["pmemo:5", "film:8", "film:9"])
        await store.music.set_mode(ben, "lift")
        await store.music.set_mode(ben, "match")

        ann_choice = await store.music.choice(ann)
        ben_choice = await store.music.choice(ben)
    assert ann_choice is not None and ann_choice.mode == "lift"
    assert ann_choice.last_songs == ("pmemo:5", "film:8", "film:9")
    assert ben_choice is not None and (ben_choice.mode, ben_choice.last_songs) == ("match", ())


@pytest.mark.usefixtures("storage_backend")
async def test_bad_modes_and_keys_are_refused_and_a_forgotten_person_cannot_be_written(tmp_path):
    async with await open_store(tmp_path) as store:
        ann = await store.ensure_person("telegram", 1)
        with pytest.raises(InvalidValue):
            await store.music.set_mode(ann, "loud")
        with pytest.raises(InvalidValue):
            await store.music.remember(ann, ["pmemo:1", "pmemo:2", "pmemo:3", "pmemo:4"])
        with pytest.raises(InvalidValue):
            await store.music.remember(ann, ["pmemo:1,pmemo:2"])
        await store.forget_person("telegram", "1")
        with pytest.raises(PersonNotFound):
            await store.music.remember(ann, ["pmemo:1"])


@pytest.mark.usefixtures("storage_backend")
async def test_export_shows_the_choice_and_forget_deletes_only_the_persons_row(tmp_path):
    async with await open_store(tmp_path) as store:
        ann = await store.ensure_person("telegram", 1)
        ben = await store.ensure_person("telegram", 2)
        for person in (ann, ben):
            await store.music.set_mode(person, "lift")
            await store.music.remember(person, ["pmemo:10", "film:3"])
        data = await store.person_data(ann)
        await store.forget_person("telegram", "1")
        assert await store.music.choice(ben) is not None
    assert data.music is not None and data.music.mode == "lift"
    assert data.music.last_songs == ("pmemo:10", "film:3")
    assert await raw_rows(tmp_path, "SELECT person_id FROM music_choices") == [(ben.id,)]


async def test_a_version_nine_file_is_upgraded_and_its_people_can_choose(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        for step in migrations.MIGRATIONS:
            if step.version <= 9:
                for statement in step.statements:
                    db.execute(statement)
        db.execute("PRAGMA user_version = 9")
        db.execute(
            "INSERT INTO persons (platform, platform_user_id, created_at) VALUES ('telegram', '7', 0)"
        )

    async with await open_store(tmp_path) as store:
        person = await store.get_person("telegram", "7")
        assert person is not None and await store.music.mode(person) == "match"
        await store.music.set_mode(person, "lift")
        assert await store.music.mode(person) == "lift"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 10
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []

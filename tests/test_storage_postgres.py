"""PostgreSQL's own half: each SQLite step has its twin, both make the same schema, PostgreSQL
databases migrate like SQLite files, and several stores (replicas) on one database stay atomic."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from storage import migrations, migrations_postgres
from storage.backends.postgres import PostgresBackend
from storage.errors import SchemaTooNew
from storage.migrations import Migration
from storage.models import ChatSettings
from storage.store import Store
from tests.storage_factory import (
    DATABASES,
    add_note,
    database,
    open_store,
    raw_rows,
    table_columns,
)


def test_every_sqlite_step_has_a_postgres_twin_and_no_other():
    sqlite = [(m.version, m.description) for m in migrations.MIGRATIONS]
    postgres = [(m.version, m.description) for m in migrations_postgres.POSTGRES_MIGRATIONS]
    assert postgres == sqlite, "each step in storage/migrations.py needs its twin, same number"
    assert migrations_postgres.LATEST_VERSION == migrations.LATEST_VERSION


async def test_both_backends_make_the_same_tables_columns_and_indexes(tmp_path, postgres_server):
    sqlite_folder, postgres_folder = tmp_path / "sqlite", tmp_path / "postgres"
    DATABASES[postgres_folder] = postgres_server.fresh_database(migrated=False)
    try:
        for folder in (sqlite_folder, postgres_folder):
            await (await open_store(folder)).close()
        assert await table_columns(postgres_folder) == await table_columns(sqlite_folder)
        sqlite_indexes = await raw_rows(
            sqlite_folder,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        )
        postgres_indexes = await raw_rows(
            postgres_folder,
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            " AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
        )
        assert set(postgres_indexes) == set(sqlite_indexes)
    finally:
        DATABASES.pop(postgres_folder)


@pytest.fixture
def empty_database(tmp_path, postgres_server):
    """tmp_path's store opens a PostgreSQL database with no tables at all."""
    DATABASES[tmp_path] = postgres_server.fresh_database(migrated=False)
    yield DATABASES[tmp_path]
    DATABASES.pop(tmp_path)


async def test_empty_database_is_created_at_the_latest_version_and_reopens_with_its_data(
    tmp_path, empty_database
):
    async with await open_store(tmp_path) as store:
        person = await store.ensure_person("telegram", 7)
    assert await raw_rows(tmp_path, "SELECT version FROM schema_version") == [
        (migrations.LATEST_VERSION,)
    ]
    async with await open_store(tmp_path) as store:
        assert await store.get_person("telegram", 7) == person


async def test_database_from_a_newer_version_is_refused_untouched(tmp_path, empty_database):
    await (await open_store(tmp_path)).close()
    await raw_rows(
        tmp_path, "UPDATE schema_version SET version = ?", (migrations.LATEST_VERSION + 5,)
    )
    with pytest.raises(SchemaTooNew) as caught:
        await open_store(tmp_path)
    assert str(migrations.LATEST_VERSION + 5) in str(caught.value)
    assert await raw_rows(tmp_path, "SELECT version FROM schema_version") == [
        (migrations.LATEST_VERSION + 5,)
    ]


async def test_failing_step_rolls_back_whole_and_keeps_the_old_version(
    tmp_path, empty_database, monkeypatch
):
    async with await open_store(tmp_path) as store:
        await store.ensure_person("discord", "9")
    broken = Migration(
        migrations.LATEST_VERSION + 1,
        "a step that fails half way",
        ("CREATE TABLE half_done (x INTEGER)", "ALTER TABLE no_such_table ADD COLUMN y TEXT"),
    )
    steps = (*migrations_postgres.POSTGRES_MIGRATIONS, broken)
    monkeypatch.setattr(migrations_postgres, "POSTGRES_MIGRATIONS", steps)
    with pytest.raises(Exception, match="no_such_table"):
        await open_store(tmp_path)
    assert await raw_rows(tmp_path, "SELECT version FROM schema_version") == [
        (migrations.LATEST_VERSION,)
    ]
    assert "half_done" not in await table_columns(tmp_path)
    assert await raw_rows(tmp_path, "SELECT platform_user_id FROM persons") == [("9",)]


async def test_version_four_database_is_upgraded_in_place_and_keeps_its_rows(
    tmp_path, empty_database, monkeypatch
):
    old = migrations_postgres.POSTGRES_MIGRATIONS
    monkeypatch.setattr(migrations_postgres, "POSTGRES_MIGRATIONS", old[:4])
    # The schema alone: today's Store reads today's tables as it opens (storage.audio_rows).
    await (await PostgresBackend.open(str(database(tmp_path)))).close()
    for statement in (
        "INSERT INTO persons (platform, platform_user_id, created_at, language)"
        " VALUES ('telegram', '4001', 1700000000.0, 'ko')",
        "INSERT INTO chats (platform, platform_chat_id, kind, created_at)"
        " VALUES ('telegram', '-40', 'group', 1700000000.0)",
        "INSERT INTO chat_settings (chat_id, analysis, digest, digest_time, updated_at)"
        " VALUES (1, 1, 1, '21:30', 1700000005.0)",
    ):
        await raw_rows(tmp_path, statement)
    monkeypatch.setattr(migrations_postgres, "POSTGRES_MIGRATIONS", old)

    async with await open_store(tmp_path) as store:
        person = await store.get_person("telegram", "4001")
        chat = await store.find_chat("telegram", "-40")
        assert person is not None and person.language == "ko" and chat is not None
        settings = await store.chat_settings(chat)
        assert settings.digest and not settings.transcript  # step 8's default
        assert await store.claim_digest(chat, date(2030, 1, 1))
        assert not await store.claim_digest(chat, date(2030, 1, 1))
    assert await raw_rows(tmp_path, "SELECT version FROM schema_version") == [
        (migrations.LATEST_VERSION,)
    ]


async def test_replicas_starting_together_migrate_once(tmp_path, empty_database):
    stores = await asyncio.gather(*(open_store(tmp_path) for _ in range(4)))
    for store in stores:
        await store.close()
    assert await raw_rows(tmp_path, "SELECT version FROM schema_version") == [
        (migrations.LATEST_VERSION,)
    ]


# Several stores on one database, as several bot replicas (processes) would have: what must
# happen once still happens once. Runs on SQLite (two connections to one file) too.


@pytest.mark.usefixtures("storage_backend")
async def test_replicas_claim_each_days_digest_once_and_keep_one_grant_and_one_vote(tmp_path):
    replicas: list[Store] = [await open_store(tmp_path) for _ in range(3)]
    try:
        first = replicas[0]
        group = await first.ensure_chat("telegram", -50, "group")
        await first.set_chat_settings(group, ChatSettings(digest=True))
        alice = await first.ensure_person("telegram", 51)
        bob = await first.ensure_person("telegram", 52)

        claims = await asyncio.gather(
            *(r.claim_digest(group, date(2030, 5, 1)) for r in replicas for _ in range(4))
        )
        assert claims.count(True) == 1

        grants = await asyncio.gather(
            *(r.give_consent(alice, "analyse", group) for r in replicas for _ in range(3))
        )
        assert len({g.given_at for g in grants}) == 1
        assert [c.kind for c in await first.consents(alice)] == ["analyse"]

        note = await add_note(first, alice, group, 1)
        labels = ("sad", "angry", "calm")
        await asyncio.gather(*(r.vote(bob, note.id, label) for r in replicas for label in labels))
        assert len(await first.votes(note.id)) == 1
    finally:
        for store in replicas:
            await store.close()

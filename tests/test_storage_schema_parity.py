"""Both engines make the same schema, read from their own catalogues: types, NOT NULL, defaults,
CHECKs, primary, unique and foreign keys with their ON DELETE rules, and indexes
(tests/storage_schema.py says what counts as the same)."""

from __future__ import annotations

import dataclasses

import pytest

from storage import migrations
from storage.migrations import Migration
from tests.storage_factory import DATABASES, open_store
from tests.storage_schema import Check, Table, check, read_schema


async def test_both_backends_make_the_same_schema_in_every_detail(tmp_path, postgres_server):
    sqlite_folder, postgres_folder = tmp_path / "sqlite", tmp_path / "postgres"
    DATABASES[postgres_folder] = postgres_server.fresh_database(migrated=False)
    try:
        for folder in (sqlite_folder, postgres_folder):
            await (await open_store(folder)).close()
        sqlite, postgres = await read_schema(sqlite_folder), await read_schema(postgres_folder)
    finally:
        DATABASES.pop(postgres_folder)
    assert set(postgres.tables) == set(sqlite.tables)
    for name, table in sqlite.tables.items():
        assert _fields(postgres.tables[name]) == _fields(table), f"table {name}"
    assert postgres.indexes == sqlite.indexes


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        ("kind IN ('private', 'group')", "(kind = ANY (ARRAY['private'::text, 'group'::text]))"),
        (
            "intensity IS NULL OR (intensity >= 0 AND intensity <= 1)",
            "((intensity IS NULL) OR ((intensity >= (0)::double precision)"
            " AND (intensity <= (1)::double precision)))",
        ),
        (
            "digest_time IS NULL OR digest_time GLOB '[0-2][0-9]:[0-5][0-9]'",
            "((digest_time IS NULL) OR (digest_time ~ '^[0-2][0-9]:[0-5][0-9]$'::text))",
        ),
        ("length(word) BETWEEN 1 AND 32", "((length(word) >= 1) AND (length(word) <= 32))"),
    ],
)
def test_a_check_reads_the_same_in_either_engines_words(sqlite, postgres):
    columns = {"kind", "intensity", "digest_time", "word"}
    assert check(sqlite, columns) == check(postgres, columns)


def test_a_check_that_differs_in_a_value_or_a_column_reads_differently():
    columns = {"hits", "attempts", "rounds"}
    base = check("hits >= 0 AND hits <= attempts", columns)
    assert base == Check(frozenset({"hits", "attempts"}), frozenset(), frozenset({0.0}))
    assert check("hits >= 1 AND hits <= attempts", columns) != base
    assert check("hits >= 0 AND hits <= rounds", columns) != base
    assert check("kind IN ('analyse')", {"kind"}) != check("kind IN ('donate_audio')", {"kind"})


@pytest.mark.parametrize(
    "drifted",
    [
        "CREATE TABLE extra (p INTEGER NOT NULL REFERENCES persons (id) ON DELETE SET NULL)",
        "CREATE TABLE extra (p INTEGER REFERENCES persons (id) ON DELETE CASCADE)",
        "CREATE TABLE extra (p TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE)",
        "CREATE TABLE extra (p INTEGER NOT NULL DEFAULT 1 REFERENCES persons (id) ON DELETE CASCADE)",
        "CREATE TABLE extra (p INTEGER NOT NULL CHECK (p > 0) REFERENCES persons (id) ON DELETE CASCADE)",
        "CREATE TABLE extra (p INTEGER NOT NULL PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE)",
    ],
)
async def test_the_comparison_sees_a_drift_in_type_null_default_check_key_or_on_delete(
    tmp_path, monkeypatch, drifted
):
    wanted = "CREATE TABLE extra (p INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE)"
    released, schemas = migrations.MIGRATIONS, []
    for name, statement in (("wanted", wanted), ("drifted", drifted)):
        step = Migration(migrations.LATEST_VERSION + 1, "an extra table", (statement,))
        monkeypatch.setattr(migrations, "MIGRATIONS", (*released, step))
        await (await open_store(tmp_path / name)).close()
        schemas.append(await read_schema(tmp_path / name))
    assert schemas[0].tables["extra"] != schemas[1].tables["extra"]
    assert {n: t for n, t in schemas[0].tables.items() if n != "extra"} == {
        n: t for n, t in schemas[1].tables.items() if n != "extra"
    }


def _fields(table: Table) -> dict[str, object]:
    """The table's parts by name, so a failure names the part that differs."""
    return {field.name: getattr(table, field.name) for field in dataclasses.fields(table)}

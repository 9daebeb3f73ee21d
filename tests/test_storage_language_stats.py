"""A chat language's running statistics as storage keeps them: merged note by note in one
transaction, each person counted once among its people, never lost when replicas add notes at
once, restarted by another model, and cleared. Real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import sqlite3

import numpy as np
import pytest

from inference.baseline import SpeakerBaseline
from storage.language_stats import LanguageStatistics
from storage.migrations import LATEST_VERSION
from tests.storage_factory import open_store, raw_rows

DIM = 3


def _merge(vector: np.ndarray, language: str = "en", model: str = "enc:1"):
    """The update a bot hands the store: Welford's merge of one note's vector."""

    def merged(kept: LanguageStatistics | None) -> LanguageStatistics:
        stats = (
            SpeakerBaseline.from_bytes(kept.count, kept.stats)
            if kept is not None
            else SpeakerBaseline.empty(DIM)
        ).updated(vector)
        return LanguageStatistics(language, model, stats.count, stats.dim, stats.to_bytes())

    return merged


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


async def test_notes_merge_into_their_languages_statistics_and_each_person_counts_once(
    tmp_path, storage_backend
):
    x = _vectors(3)
    async with await open_store(tmp_path) as store:
        ann = await store.people.ensure_person("telegram", 1)
        ben = await store.people.ensure_person("telegram", 2)
        await store.languages.add_note(ann, "en", "enc:1", _merge(x[0]))
        await store.languages.add_note(ann, "en", "enc:1", _merge(x[1]))
        kept = await store.languages.add_note(ben, "en", "enc:1", _merge(x[2]))
        await store.languages.add_note(ben, "ko", "enc:1", _merge(x[2], "ko"))
        en = await store.languages.statistics("en")
        ko = await store.languages.statistics("ko")
        assert await store.languages.statistics("pl") is None
        assert await store.languages.counted_in(ben) == ["en", "ko"]

    assert en is not None and ko is not None
    assert (kept.count, kept.people) == (en.count, en.people) == (3, 2)
    assert (ko.count, ko.people, ko.model, ko.dim) == (1, 1, "enc:1", DIM)
    stats = SpeakerBaseline.from_bytes(en.count, en.stats)
    assert np.allclose(stats.mean, x.mean(axis=0), atol=1e-6)
    assert np.allclose(stats.variance, x.var(axis=0, ddof=1), atol=1e-5)


async def test_another_models_statistics_start_afresh_with_their_people(tmp_path, storage_backend):
    x = _vectors(3, seed=1)
    async with await open_store(tmp_path) as store:
        ann = await store.people.ensure_person("telegram", 1)
        ben = await store.people.ensure_person("telegram", 2)
        await store.languages.add_note(ann, "en", "enc:1", _merge(x[0]))
        await store.languages.add_note(ben, "en", "enc:1", _merge(x[1]))
        seen: list[LanguageStatistics | None] = []

        def merged(kept: LanguageStatistics | None) -> LanguageStatistics:
            seen.append(kept)
            return _merge(x[2], model="enc:2")(kept)

        again = await store.languages.add_note(ann, "en", "enc:2", merged)
        assert await store.languages.counted_in(ben) == []
    assert seen == [None]  # the other model's numbers never reach the merge
    assert (again.model, again.count, again.people) == ("enc:2", 1, 1)


async def test_two_replicas_adding_notes_at_once_lose_none(tmp_path, storage_backend):
    """Two Stores on one database (two replicas), each adding notes concurrently, starting from
    no row at all (so they also race to create it): every note counts, the mean is all of them."""
    per_task, x = 12, _vectors(48, seed=2)
    first = await open_store(tmp_path)
    second = await open_store(tmp_path)
    try:
        people = [await first.people.ensure_person("telegram", i) for i in range(4)]

        async def add(store, person, rows) -> None:  # noqa: ANN001
            for row in rows:
                await store.languages.add_note(person, "en", "enc:1", _merge(row))

        await asyncio.gather(
            *(
                add((first, second)[k % 2], people[k], x[k * per_task : (k + 1) * per_task])
                for k in range(4)
            )
        )
        kept = await second.languages.statistics("en")
    finally:
        await first.close()
        await second.close()
    assert kept is not None and (kept.count, kept.people) == (48, 4)
    stats = SpeakerBaseline.from_bytes(kept.count, kept.stats)
    assert np.allclose(stats.mean, x.mean(axis=0), atol=1e-5)
    assert np.allclose(stats.m2, ((x - x.mean(axis=0)) ** 2).sum(axis=0), rtol=1e-4)


async def test_forget_removes_only_the_mark_and_clear_removes_everything(tmp_path, storage_backend):
    x = _vectors(2, seed=3)
    async with await open_store(tmp_path) as store:
        ann = await store.people.ensure_person("telegram", 1)
        ben = await store.people.ensure_person("telegram", 2)
        await store.languages.add_note(ann, "en", "enc:1", _merge(x[0]))
        await store.languages.add_note(ben, "en", "enc:1", _merge(x[1]))
        assert (await store.privacy.export(ann)).language_statistics == ["en"]
        await store.privacy.forget("telegram", 1)
        after = await store.languages.statistics("en")
        marks = await raw_rows(tmp_path, "SELECT person_id FROM language_stats_people")
        assert marks == [(ben.id,)]
        # An aggregate cannot give one person's notes back: the count stays.
        assert after is not None and (after.count, after.people) == (2, 2)
        assert await store.languages.clear() == 1
        assert await store.languages.clear() == 0
        assert await store.languages.statistics("en") is None
    assert await raw_rows(tmp_path, "SELECT * FROM language_stats_people") == []


async def test_clearing_some_languages_removes_only_theirs_and_their_people(
    tmp_path, storage_backend
):
    x = _vectors(3, seed=4)
    async with await open_store(tmp_path) as store:
        ann = await store.people.ensure_person("telegram", 1)
        for i, language in enumerate(("en", "ko", "ur")):
            await store.languages.add_note(ann, language, "enc:1", _merge(x[i], language))
        assert await store.languages.clear(frozenset({"en", "ko", "pl"})) == 2
        assert await store.languages.clear({"en"}) == 0
        assert await store.languages.clear(()) == 0
        left = [await store.languages.statistics(code) for code in ("en", "ko", "ur")]
        assert await store.languages.counted_in(ann) == ["ur"]
    assert left[0] is None and left[1] is None
    assert left[2] is not None and (left[2].count, left[2].people) == (1, 1)
    assert await raw_rows(tmp_path, "SELECT language FROM language_stats_people") == [("ur",)]


async def test_a_bad_merge_keeps_what_was_there(tmp_path, storage_backend):
    x = _vectors(1, seed=4)
    async with await open_store(tmp_path) as store:
        ann = await store.people.ensure_person("telegram", 1)
        await store.languages.add_note(ann, "en", "enc:1", _merge(x[0]))
        with pytest.raises(ValueError):
            await store.languages.add_note(
                ann, "en", "enc:1", lambda kept: LanguageStatistics("en", "enc:1", 0, DIM, b"")
            )
        kept = await store.languages.statistics("en")
    assert kept is not None and kept.count == 1


async def test_a_version_thirteen_file_gets_empty_language_statistics(tmp_path):
    path = tmp_path / "db" / "voicemood.sqlite3"
    async with await open_store(tmp_path) as store:
        await store.people.ensure_person("telegram", 1)
    # What a version-13 file looks like: everything but step 14.
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE language_stats_people")
        db.execute("DROP TABLE language_stats")
        db.execute("PRAGMA user_version = 13")

    async with await open_store(tmp_path) as store:
        ann = await store.people.get_person("telegram", 1)
        assert ann is not None and await store.languages.statistics("en") is None
        kept = await store.languages.add_note(ann, "en", "enc:1", _merge(_vectors(1)[0]))
        assert (kept.count, kept.people) == (1, 1)

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []

"""Voice baselines in storage: their own grant, statistics only under it, reset for another encoder."""

from __future__ import annotations

import asyncio

import pytest

from storage.errors import NotConsented
from storage.models import StoredBaseline
from tests.storage_factory import at, open_store, raw_rows

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")


def _counting(encoder: str, seen: list[StoredBaseline | None] | None = None):
    """An update that adds one note to the count (and records what it was handed)."""

    def update(current: StoredBaseline | None) -> StoredBaseline:
        if seen is not None:
            seen.append(current)
        count = current.count + 1 if current is not None else 1
        return StoredBaseline(encoder, count, 2, bytes([count]) * 16)

    return update


async def test_nothing_is_kept_without_the_baseline_grant(tmp_path):
    async with await open_store(tmp_path) as store:
        alice = await store.ensure_person("telegram", 1)
        with pytest.raises(NotConsented):
            await store.update_baseline(alice, "enc", _counting("enc"))
        assert await store.baseline(alice, "enc") is None
        assert await store.baseline_consent(alice) is None


async def test_the_grant_keeps_its_time_and_withdrawing_deletes_the_statistics(tmp_path):
    async with await open_store(tmp_path) as store:
        alice = await store.ensure_person("telegram", 1)
        assert await store.give_baseline_consent(alice, at=at(5)) == at(5)
        assert await store.give_baseline_consent(alice, at=at(9)) == at(5)  # idempotent
        await store.update_baseline(alice, "enc", _counting("enc"))
        await store.update_baseline(alice, "enc", _counting("enc"))
        kept = await store.baseline(alice, "enc")
        assert kept is not None and kept.count == 2 and kept.stats == bytes([2]) * 16

        assert await store.withdraw_baseline_consent(alice)
        assert not await store.withdraw_baseline_consent(alice)
        assert await store.baseline(alice, "enc") is None
        assert await store.baseline_consent(alice) is None
    assert await raw_rows(tmp_path, "SELECT count(*) FROM baselines") == [(0,)]


async def test_a_baseline_built_by_another_encoder_is_not_handed_out_and_is_reset(tmp_path):
    async with await open_store(tmp_path) as store:
        alice = await store.ensure_person("telegram", 1)
        await store.give_baseline_consent(alice)
        for _ in range(3):
            await store.update_baseline(alice, "old-encoder", _counting("old-encoder"))
        assert await store.baseline(alice, "new-encoder") is None
        seen: list[StoredBaseline | None] = []
        await store.update_baseline(alice, "new-encoder", _counting("new-encoder", seen))
        assert seen == [None]
        fresh = await store.baseline(alice, "new-encoder")
        assert fresh is not None and fresh.count == 1
        assert await store.baseline(alice, "old-encoder") is None


async def test_notes_learned_at_the_same_time_all_count(tmp_path):
    async with await open_store(tmp_path) as store:
        alice = await store.ensure_person("telegram", 1)
        await store.give_baseline_consent(alice)
        await asyncio.gather(
            *(store.update_baseline(alice, "enc", _counting("enc")) for _ in range(5))
        )
        kept = await store.baseline(alice, "enc")
        assert kept is not None and kept.count == 5

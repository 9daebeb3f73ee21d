"""Corrections in storage: notes' numbers kept only under the baseline grant, labelled by the
person's own votes, pruned, gone with /baseline off and /forget, in /export."""

from __future__ import annotations

import numpy as np
import pytest

from storage.corrections import KEPT_NOTES, UNVOTED_KEPT
from storage.errors import NotConsented
from tests.storage_factory import add_note, open_store, raw_rows

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")
MODEL = "test-model-v1"
PROBS = {"happy": 0.75, "neutral": 0.25}


def _vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(6).astype(np.float32)


async def _alice(store):
    alice = await store.ensure_person("telegram", 1)
    chat = await store.ensure_chat("telegram", 1, "private", owner=alice)
    return alice, chat


async def test_nothing_is_kept_without_the_baseline_grant(tmp_path):
    async with await open_store(tmp_path) as store:
        alice, chat = await _alice(store)
        note = await add_note(store, alice, chat, 1)
        with pytest.raises(NotConsented):
            await store.corrections.keep(alice, note.id, MODEL, _vector(1), PROBS)
    assert await raw_rows(tmp_path, "SELECT count(*) FROM correction_notes") == [(0,)]


async def test_only_the_persons_own_votes_make_corrections_of_that_model(tmp_path):
    async with await open_store(tmp_path) as store:
        alice, chat = await _alice(store)
        bob = await store.ensure_person("telegram", 2)
        await store.baselines.give_consent(alice)
        notes = [await add_note(store, alice, chat, i) for i in range(4)]
        for i, note in enumerate(notes):
            model = MODEL if i < 3 else "another-model"
            await store.corrections.keep(alice, note.id, model, _vector(i), PROBS)
        await store.vote(alice, notes[0].id, "sad")
        await store.vote(bob, notes[1].id, "angry")  # someone else's vote teaches nothing
        await store.vote(alice, notes[2].id, "happy")  # a confirmation is a correction too
        await store.vote(alice, notes[3].id, "sad")  # heard by another model

        kept = await store.corrections.corrections(alice, MODEL, limit=10)

        assert [(c.note_id, c.label) for c in kept] == [
            (notes[0].id, "sad"),
            (notes[2].id, "happy"),
        ]
        assert np.array_equal(kept[0].embedding, _vector(0))
        assert kept[0].probabilities == PROBS
        latest = await store.corrections.corrections(alice, MODEL, limit=1)
        assert [c.note_id for c in latest] == [notes[2].id]


async def test_unvoted_notes_are_kept_only_for_the_latest_few(tmp_path):
    async with await open_store(tmp_path) as store:
        alice, chat = await _alice(store)
        await store.baselines.give_consent(alice)
        first = await add_note(store, alice, chat, 0)
        await store.corrections.keep(alice, first.id, MODEL, _vector(0), PROBS)
        await store.vote(alice, first.id, "sad")
        second = await add_note(store, alice, chat, 1)
        await store.corrections.keep(alice, second.id, MODEL, _vector(1), PROBS)
        for i in range(UNVOTED_KEPT):
            note = await add_note(store, alice, chat, 100 + i)
            await store.corrections.keep(alice, note.id, MODEL, _vector(i), PROBS)

        kept = {c.note_id for c in await store.corrections.notes(alice)}

        assert first.id in kept  # voted: a correction, kept
        assert second.id not in kept  # never voted and no longer among the latest
        assert len(kept) == UNVOTED_KEPT + 1


async def test_at_most_the_latest_few_dozen_are_kept_even_when_voted(tmp_path):
    async with await open_store(tmp_path) as store:
        alice, chat = await _alice(store)
        await store.baselines.give_consent(alice)
        notes = []
        for i in range(KEPT_NOTES + 1):
            note = await add_note(store, alice, chat, i)
            await store.vote(alice, note.id, "sad")
            await store.corrections.keep(alice, note.id, MODEL, _vector(i), PROBS)
            notes.append(note.id)

        kept = [c.note_id for c in await store.corrections.notes(alice)]

        assert kept == notes[1:]  # the oldest went


async def test_baseline_off_and_forget_delete_them_and_export_holds_them(tmp_path):
    async with await open_store(tmp_path) as store:
        alice, chat = await _alice(store)
        await store.baselines.give_consent(alice)
        note = await add_note(store, alice, chat, 1)
        await store.corrections.keep(alice, note.id, MODEL, _vector(1), PROBS)
        await store.vote(alice, note.id, "sad")

        exported = await store.privacy.export(alice)
        assert [(c.note_id, c.label) for c in exported.correction_notes] == [(note.id, "sad")]

        await store.baselines.withdraw_consent(alice)
        assert await store.corrections.notes(alice) == []
        assert await store.corrections.corrections(alice, MODEL, limit=10) == []

        await store.baselines.give_consent(alice)
        await store.corrections.keep(alice, note.id, MODEL, _vector(1), PROBS)
        assert len(await store.corrections.notes(alice)) == 1
        await store.forget_person("telegram", 1)
    assert await raw_rows(tmp_path, "SELECT count(*) FROM correction_notes") == [(0,)]

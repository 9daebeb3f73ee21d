"""A person's own rows, gathered from every table for /export and /history, and their own words."""

from __future__ import annotations

import numpy as np
import pytest

from storage.errors import InvalidLabel, InvalidValue
from storage.models import StoredBaseline
from tests.storage_factory import add_note, at, open_store, table_columns

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")


async def test_person_data_gathers_every_table_keyed_by_the_person_and_nothing_of_others(tmp_path):
    async with await open_store(tmp_path) as store:
        group = await store.ensure_chat("telegram", -100, "group")
        ann = await store.ensure_person("telegram", 1, display_name="Ann")
        ben = await store.ensure_person("telegram", 2)
        private = await store.ensure_chat("telegram", 1, "private", owner=ann)
        await store.give_consent(ann, "analyse", group)
        await store.give_consent(ann, "donate_audio")
        await store.give_consent(ben, "analyse", group)
        await store.give_baseline_consent(ann)
        await store.update_baseline(ann, "enc", lambda _: StoredBaseline("enc", 2, 4, b"s" * 32))
        await store.update_cue_baseline(ann, lambda _: b"cues")
        await store.set_label_word(ann, "angry", "  tense  ")
        await store.set_transcript(ann, True)
        await store.set_transcript(ben, True)
        mine = await add_note(store, ann, private, 10, label="angry", seconds=5)
        await add_note(store, ann, group, 11, label="sad", seconds=1)
        bens = await add_note(store, ben, group, 12, label="calm")
        await store.vote(ann, bens.id, "sad")
        await store.vote(ben, mine.id, "angry")
        await store.practice.start_round(ann, "happy", 1)
        await store.practice.record_attempt(ann, "happy", hit=False)
        await store.practice.start_round(ben, "sad", 0)
        await store.practice.record_attempt(ben, "sad", hit=True)
        await store.faces.set_reading(ann, True)
        await store.faces.take_hint(ben)
        await store.corrections.keep(ann, mine.id, "enc", np.ones(4, np.float32), {"angry": 1.0})
        await store.give_baseline_consent(ben)
        await store.corrections.keep(ben, bens.id, "enc", np.ones(4, np.float32), {"calm": 1.0})

        data = await store.person_data(ann)

    assert data.person.id == ann.id
    assert [n.label for n in data.notes] == ["sad", "angry"]  # oldest first, both chats
    assert {c.id for c in data.chats} == {group.id, private.id}
    assert [(v.note_id, v.label) for v in data.votes_cast] == [(bens.id, "sad")]
    assert {c.kind for c in data.consents} == {"analyse", "donate_audio"}
    assert data.baseline_granted_at is not None
    assert [(b.encoder, b.count) for b in data.baselines] == [("enc", 2)]
    assert data.cue_statistics is not None and data.cue_statistics.stats == b"cues"
    assert data.words == {"angry": "tense"}
    assert data.transcript_on_since is not None
    assert [(p.tone, p.attempts, p.hits) for p in data.practice_scores] == [("happy", 1, 0)]
    assert data.practice_session is not None and data.practice_session.tone == "happy"
    assert [(x.tone, x.attempts) for x in data.practice_session.tallies] == [("happy", 1)]
    assert data.face_on_since is not None and data.face_hint_shown_at is None
    assert [(c.note_id, c.label) for c in data.correction_notes] == [(mine.id, None)]
    # Every table with a person_id column is one PersonData reads (a new one must be added).
    tables = await table_columns(tmp_path)
    keyed = {table for table, columns in tables.items() if "person_id" in columns}
    assert keyed == {
        "consents",
        "notes",
        "baseline_consents",
        "baselines",
        "cue_baselines",
        "label_words",
        "transcript_choices",
        "practice_sessions",
        "practice_session_tones",
        "practice_scores",
        "face_choices",
        "correction_notes",
        "music_choices",
        "language_stats_people",
    }


async def test_person_notes_since_a_time_are_only_their_own(tmp_path):
    async with await open_store(tmp_path) as store:
        group = await store.ensure_chat("telegram", -100, "group")
        ann = await store.ensure_person("telegram", 1)
        ben = await store.ensure_person("telegram", 2)
        for person in (ann, ben):
            await store.give_consent(person, "analyse", group)
        await add_note(store, ann, group, 1, seconds=0)
        late = await add_note(store, ann, group, 2, seconds=100)
        await add_note(store, ben, group, 3, seconds=200)
        assert [n.id for n in await store.person_notes(ann, since=at(50))] == [late.id]


async def test_words_replace_one_label_at_a_time_refuse_bad_ones_and_reset(tmp_path):
    async with await open_store(tmp_path) as store:
        ann = await store.ensure_person("telegram", 1)
        await store.set_label_word(ann, "angry", "tense")
        await store.set_label_word(ann, "angry", "sharp")
        await store.set_label_word(ann, "sad", "low")
        with pytest.raises(InvalidLabel):
            await store.set_label_word(ann, "grumpy", "x")
        with pytest.raises(InvalidValue):
            await store.set_label_word(ann, "sad", "x" * 33)
        assert await store.label_words(ann) == {"angry": "sharp", "sad": "low"}
        assert await store.reset_label_words(ann) == 2
        assert await store.label_words(ann) == {}

"""Notes, summaries' queries, chat settings and languages on a real SQLite file."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import time

import pytest

from storage.errors import InvalidLabel, InvalidValue, NoteNotFound
from storage.models import ChatSettings
from storage.notes import CHAT_NOTES_SQL
from tests.storage_factory import add_note, at, open_store

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")


@pytest.fixture
async def store(storage_backend, tmp_path):
    async with await open_store(tmp_path) as store:
        yield store


async def _group_with(store, *user_ids, chat_id=-7000):
    group = await store.ensure_chat("telegram", chat_id, "group")
    people = []
    for user_id in user_ids:
        person = await store.ensure_person("telegram", user_id)
        await store.give_consent(person, "analyse", group)
        people.append(person)
    return group, people


async def test_note_round_trips_with_its_person_and_probabilities(store):
    group, (ann,) = await _group_with(store, 11)
    stored = await add_note(
        store, ann, group, 300, label="sad", seconds=5, probabilities={"sad": 0.6, "calm": 0.4}
    )
    again = await store.get_note(stored.id)
    assert again == stored
    assert again.person.platform_user_id == "11"
    assert again.probabilities == {"sad": 0.6, "calm": 0.4}
    assert again.created_at == at(5)
    assert await store.find_note(group, "300") == stored
    assert await store.find_note(group, "301") is None


async def test_chat_notes_since_a_time_and_last_n_are_in_time_order(store):
    group, (ann, ben) = await _group_with(store, 21, 22)
    other, (cat,) = await _group_with(store, 23, chat_id=-7001)
    for i, seconds in enumerate([50, 10, 40, 20, 30]):
        await add_note(store, ann if i % 2 else ben, group, i, seconds=seconds, label="happy")
    await add_note(store, cat, other, 99, seconds=35)

    every = await store.chat_notes(group)
    assert [n.created_at for n in every] == [at(s) for s in (10, 20, 30, 40, 50)]
    since = await store.chat_notes(group, since=at(25))
    assert [n.created_at for n in since] == [at(30), at(40), at(50)]
    last_two = await store.chat_notes(group, last=2)
    assert [n.created_at for n in last_two] == [at(40), at(50)]
    both = await store.chat_notes(group, since=at(15), last=10)
    assert [n.created_at for n in both] == [at(s) for s in (20, 30, 40, 50)]
    assert {n.person.platform_user_id for n in every} == {"21", "22"}


@pytest.mark.sqlite_only  # SQLite's query plan; PostgreSQL plans by its table statistics
async def test_chat_notes_query_walks_the_chat_time_index(store, tmp_path):
    await _group_with(store, 31)
    with sqlite3.connect(tmp_path / "db" / "voicemood.sqlite3") as db:
        plan = " | ".join(
            row[3]
            for row in db.execute(
                "EXPLAIN QUERY PLAN " + CHAT_NOTES_SQL, {"chat": 1, "since": 0.0, "limit": 5}
            )
        )
    assert "USING INDEX notes_by_chat_time (chat_id=? AND created_at>?)" in plan
    assert "TEMP B-TREE" not in plan


async def test_analysing_a_message_again_replaces_the_answer_and_keeps_votes(store):
    group, (ann, ben) = await _group_with(store, 41, 42)
    first = await add_note(store, ann, group, 7, label="sad")
    await store.vote(ben, first.id, "angry")
    second = await add_note(store, ann, group, 7, label="calm", seconds=1)
    assert second.id == first.id
    assert (await store.get_note(first.id)).label == "calm"
    assert len(await store.chat_notes(group)) == 1
    assert await store.final_label(first.id) == "angry"


async def test_unknown_labels_and_missing_notes_raise_typed_errors(store):
    group, (ann,) = await _group_with(store, 51)
    with pytest.raises(InvalidLabel) as caught:
        await add_note(store, ann, group, 1, label="ecstatic")
    assert caught.value.code == "invalid_label" and "ecstatic" in str(caught.value)
    with pytest.raises(NoteNotFound):
        await store.get_note(12345)


async def test_chat_settings_default_then_round_trip_and_schedule(store):
    group, _ = await _group_with(store, 61)
    quiet = await store.ensure_chat("discord", "g62", "group")
    assert await store.chat_settings(group) == ChatSettings()
    wanted = replace(ChatSettings(), digest=True, digest_time=time(21, 0), language="ko")
    await store.set_chat_settings(group, wanted)
    await store.set_chat_settings(quiet, ChatSettings(digest=False))
    assert await store.chat_settings(group) == wanted
    scheduled = await store.scheduled_digests()
    assert [(s.chat.id, s.settings) for s in scheduled] == [(group.id, wanted)]
    with pytest.raises(InvalidValue):
        await store.set_chat_settings(group, ChatSettings(language="not a language"))


async def test_person_language_is_remembered(store):
    person = await store.ensure_person("telegram", 71)
    assert person.language is None
    await store.set_language(person, "KO")
    again = await store.get_person("telegram", 71)
    assert again is not None and again.language == "ko"
    with pytest.raises(InvalidValue) as caught:
        await store.set_language(person, "klingon!")
    assert caught.value.code == "invalid_value"


async def test_private_chat_is_owned_by_its_first_speaker(store):
    person = await store.ensure_person("telegram", 81)
    chat = await store.ensure_chat("telegram", 81, "private")
    assert chat.owner_id is None
    await add_note(store, person, chat, 1)
    assert (await store.get_chat(chat.id)).owner_id == person.id


async def test_display_name_is_kept_and_follows_renames(store):
    person = await store.ensure_person("discord", "u91", display_name="  Mina   Kim ")
    assert person.display_name == "Mina Kim"
    # A lookup without a name keeps the stored one; a new name replaces it.
    assert (await store.ensure_person("discord", "u91")).display_name == "Mina Kim"
    renamed = await store.ensure_person("discord", "u91", display_name="Mina")
    assert renamed.id == person.id and renamed.display_name == "Mina"
    assert (await store.get_person("discord", "u91")) == renamed


async def test_reply_message_finds_its_note(store):
    group, (ann,) = await _group_with(store, 92)
    note = await add_note(store, ann, group, 1)
    assert await store.find_note_by_reply(group, "500") is None
    await store.set_reply_message(note.id, 500)
    found = await store.find_note_by_reply(group, "500")
    assert found is not None and found.id == note.id and found.reply_message_id == "500"
    other_chat = await store.ensure_chat("telegram", -7002, "group")
    assert await store.find_note_by_reply(other_chat, "500") is None
    with pytest.raises(NoteNotFound):
        await store.set_reply_message(note.id + 1, 501)


async def test_count_kept_audio_counts_only_donated_files(store):
    person = await store.ensure_person("telegram", 93)
    chat = await store.ensure_chat("telegram", 93, "private")
    await add_note(store, person, chat, 1, audio=b"OggS before consent")
    await store.give_consent(person, "donate_audio")
    await add_note(store, person, chat, 2, audio=b"OggS kept")
    await add_note(store, person, chat, 3)
    assert await store.count_kept_audio(person) == 1

"""A note's arrival read in one statement means what ensure_person, ensure_chat and may_analyse
mean one after the other (storage/arrivals.py), on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from storage.models import ChatSettings
from tests.storage_factory import open_store

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")


@pytest.fixture
async def store(storage_backend, tmp_path):
    async with await open_store(tmp_path) as store:
        yield store


async def _three_steps(store, user, chat_id, kind, name=None):
    person = await store.people.ensure_person("telegram", user, display_name=name)
    owner = person if kind == "private" else None
    chat = await store.people.ensure_chat("telegram", chat_id, kind, owner=owner)
    return person, chat, await store.consent.may_analyse(person, chat)


async def test_a_newcomers_first_note_creates_them_and_their_private_chat(store):
    arrival = await store.arrivals.arrive("telegram", 701, 701, "private", display_name="Mina")
    assert arrival.may_analyse
    assert arrival.person == await store.people.get_person("telegram", 701)
    assert arrival.person.display_name == "Mina"
    assert arrival.chat == await store.people.find_chat("telegram", 701)
    assert arrival.chat.owner_id == arrival.person.id


async def test_a_known_person_in_their_private_chat_reads_as_the_three_steps_do(store):
    first = await store.arrivals.arrive("telegram", 702, 702, "private", display_name="Jun")
    again = await store.arrivals.arrive("telegram", 702, 702, "private", display_name="Jun")
    assert again == first
    person, chat, may = await _three_steps(store, 702, 702, "private", "Jun")
    assert (again.person, again.chat, again.may_analyse) == (person, chat, may)


async def test_a_new_display_name_is_kept(store):
    await store.arrivals.arrive("telegram", 703, 703, "private", display_name="Old")
    renamed = await store.arrivals.arrive("telegram", 703, 703, "private", display_name="New")
    assert renamed.person.display_name == "New"
    unnamed = await store.arrivals.arrive("telegram", 703, 703, "private")
    assert unnamed.person.display_name == "New"  # no name given: the kept one stays


async def test_a_private_chat_nobody_owns_yet_is_claimed(store):
    await store.people.ensure_chat("telegram", 704, "private")  # seen before its person
    arrival = await store.arrivals.arrive("telegram", 704, 704, "private")
    assert arrival.chat.owner_id == arrival.person.id
    assert (await store.people.find_chat("telegram", 704)).owner_id == arrival.person.id


async def test_group_analysis_follows_opt_in_withdrawal_and_the_chats_switch(store):
    arrival = await store.arrivals.arrive("telegram", 705, -705, "group")
    assert not arrival.may_analyse
    person, group = arrival.person, arrival.chat
    assert group.owner_id is None

    await store.consent.give(person, "analyse", group)
    arrival = await store.arrivals.arrive("telegram", 705, -705, "group")
    assert arrival.may_analyse
    assert arrival.may_analyse == (await _three_steps(store, 705, -705, "group"))[2]

    await store.settings.set(group, ChatSettings(analysis=False))
    assert not (await store.arrivals.arrive("telegram", 705, -705, "group")).may_analyse
    await store.settings.set(group, ChatSettings(analysis=True))
    assert (await store.arrivals.arrive("telegram", 705, -705, "group")).may_analyse

    await store.consent.withdraw(person, "analyse", group)
    arrival = await store.arrivals.arrive("telegram", 705, -705, "group")
    assert not arrival.may_analyse
    assert arrival.may_analyse == (await _three_steps(store, 705, -705, "group"))[2]


async def test_consent_in_one_group_says_nothing_of_another_or_of_another_person(store):
    person = await store.people.ensure_person("telegram", 706)
    group = await store.people.ensure_chat("telegram", -706, "group")
    await store.consent.give(person, "analyse", group)
    assert not (await store.arrivals.arrive("telegram", 706, -707, "group")).may_analyse
    assert not (await store.arrivals.arrive("telegram", 708, -706, "group")).may_analyse
    assert (await store.arrivals.arrive("telegram", 706, -706, "group")).may_analyse


async def test_a_chat_of_another_kind_is_refused_as_ensure_chat_refuses_it(store):
    await store.arrivals.arrive("telegram", 709, -709, "group")
    with pytest.raises(ValueError, match="group chat, not private"):
        await store.arrivals.arrive("telegram", 709, -709, "private")
    with pytest.raises(ValueError, match="chat kind"):
        await store.arrivals.arrive("telegram", 709, -709, "channel")  # type: ignore[arg-type]


async def test_a_forgotten_person_arrives_anew(store):
    first = await store.arrivals.arrive("telegram", 710, 710, "private")
    await store.privacy.forget("telegram", 710)
    again = await store.arrivals.arrive("telegram", 710, 710, "private")
    assert again.person.id != first.person.id
    assert again.chat.owner_id == again.person.id
    assert again.may_analyse


async def test_the_baseline_switch_and_the_persons_words_read_as_their_own_steps_do(store):
    first = await store.arrivals.arrive("telegram", 711, 711, "private")
    assert not first.baseline_on and first.label_words == {}
    person = first.person
    await store.baselines.give_consent(person)
    await store.preferences.set_label_word(person, "sad", "blue")
    await store.preferences.set_label_word(person, "happy", "sunny")
    arrival = await store.arrivals.arrive("telegram", 711, 711, "private")
    assert arrival.baseline_on == (await store.baselines.consent(person) is not None) is True
    assert arrival.label_words == await store.preferences.label_words(person)
    assert arrival.label_words == {"happy": "sunny", "sad": "blue"}
    assert arrival.may_analyse  # one row per word changes nothing else
    assert (arrival.person, arrival.chat) == (first.person, first.chat)

    await store.baselines.withdraw_consent(person)
    await store.preferences.reset_label_words(person)
    arrival = await store.arrivals.arrive("telegram", 711, 711, "private")
    assert not arrival.baseline_on and arrival.label_words == {}


async def test_a_renamed_person_still_gets_their_switch_and_words(store):
    first = await store.arrivals.arrive("telegram", 712, 712, "private", display_name="A")
    await store.baselines.give_consent(first.person)
    await store.preferences.set_label_word(first.person, "calm", "chill")
    renamed = await store.arrivals.arrive("telegram", 712, 712, "private", display_name="B")
    assert renamed.baseline_on and renamed.label_words == {"calm": "chill"}

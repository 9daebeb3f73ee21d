"""A note is checked and stored in one statement (storage/notes.py, consent.MAY_STORE_SQL): it
stores exactly where the consent rules the service asks (may_analyse, may_keep_audio) allow, and
says why it did not, as the steps it replaced did, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from storage.errors import ChatNotFound, NotConsented, PersonNotFound
from storage.models import ChatSettings
from tests.storage_factory import add_note, open_store, raw_rows

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")
AUDIO = b"OggS a donated note"


@pytest.fixture
async def store(storage_backend, tmp_path):
    async with await open_store(tmp_path) as store:
        yield store


async def test_a_note_is_stored_exactly_where_the_consent_rules_allow_it(store, tmp_path):
    """Every mix of chat kind, the chat's analysis switch, the person's grant (never, given,
    withdrawn) and their donation: the note and its audio are stored iff may_analyse and
    may_keep_audio say so, with the row the service asked for."""
    cases = itertools.product(("private", "group"), (True, False), ("never", "given", "withdrawn"))
    for n, (kind, analysis, grant) in enumerate(cases):
        for donating in (False, True):
            user = 1000 + 10 * n + donating
            person = await store.ensure_person("telegram", user)
            chat_id = user if kind == "private" else -user
            chat = await store.ensure_chat(
                "telegram", chat_id, kind, owner=person if kind == "private" else None
            )
            if not analysis:
                await store.settings.set(chat, ChatSettings(analysis=False))
            if grant != "never" and kind == "group":
                await store.give_consent(person, "analyse", chat)
                if grant == "withdrawn":
                    await store.withdraw_consent(person, "analyse", chat)
            if donating:
                await store.give_consent(person, "donate_audio")
            allowed = await store.may_analyse(person, chat)
            keeps = allowed and await store.may_keep_audio(person)
            case = (kind, analysis, grant, donating)
            if not allowed:
                with pytest.raises(NotConsented):
                    await add_note(store, person, chat, 7, audio=AUDIO)
                assert await store.notes.find(chat, 7) is None, case
                continue
            note = await add_note(store, person, chat, 7, audio=AUDIO)
            found = await store.notes.find(chat, 7)
            assert found is not None and found.id == note.id, case
            assert (found.person.id, found.label, found.confidence) == (person.id, "happy", 0.75)
            assert (found.audio_path is not None) == keeps, case
            assert (await store.notes.audio(found) == AUDIO) == keeps, case
    kept = await raw_rows(tmp_path, "SELECT count(*) FROM notes WHERE audio_path IS NOT NULL")
    assert kept[0][0] == 7  # every private chat's donor, and the group's with grant and switch on


async def test_a_refused_note_says_why(store):
    person = await store.ensure_person("telegram", 2001)
    private = await store.ensure_chat("telegram", 2001, "private", owner=person)
    group = await store.ensure_chat("telegram", -2001, "group")
    with pytest.raises(NotConsented):
        await add_note(store, person, group, 1)
    unknown = replace(group, id=999_999)
    with pytest.raises(ChatNotFound):
        await add_note(store, person, unknown, 1)
    other = await store.ensure_person("telegram", 2002)
    await add_note(store, person, private, 5)
    with pytest.raises(ValueError, match="belongs to someone else"):
        await add_note(store, other, private, 5)  # the same message, another speaker
    await store.forget_person("telegram", 2001)
    with pytest.raises((PersonNotFound, ChatNotFound)):
        await add_note(store, person, private, 6)


async def test_a_private_chat_nobody_owned_is_claimed_by_its_first_note(store):
    chat = await store.ensure_chat("telegram", 2003, "private")  # seen before its person
    person = await store.ensure_person("telegram", 2003)
    note = await add_note(store, person, chat, 1)
    assert (await store.get_chat(chat.id)).owner_id == person.id
    assert (await store.notes.find(chat, 1)).id == note.id

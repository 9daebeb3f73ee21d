"""Consent rules as the service asks them, and donated audio kept only with consent."""

from __future__ import annotations

import pytest

from storage.errors import NotConsented
from tests.storage_factory import add_note, at, open_store

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")


@pytest.fixture
async def store(storage_backend, tmp_path):
    async with await open_store(tmp_path) as store:
        yield store


async def test_private_chat_needs_no_consent_to_analyse(store):
    person = await store.ensure_person("telegram", 501)
    chat = await store.ensure_chat("telegram", 501, "private")
    assert await store.may_analyse(person, chat)
    assert await store.consents(person) == []


async def test_group_analysis_follows_opt_in_and_withdrawal(store):
    person = await store.ensure_person("telegram", 502)
    group = await store.ensure_chat("telegram", -9001, "group")
    other_group = await store.ensure_chat("telegram", -9002, "group")
    assert not await store.may_analyse(person, group)

    await store.give_consent(person, "analyse", group, at=at(10))
    assert await store.may_analyse(person, group)
    # Consent is per group: opting in to one says nothing about another.
    assert not await store.may_analyse(person, other_group)

    withdrawn = await store.withdraw_consent(person, "analyse", group, at=at(20))
    assert withdrawn is not None and withdrawn.withdrawn_at == at(20)
    assert not await store.may_analyse(person, group)
    history = await store.consents(person)
    assert [(c.kind, c.chat_id, c.given_at, c.withdrawn_at) for c in history] == [
        ("analyse", group.id, at(10), at(20))
    ]


async def test_group_with_analysis_switched_off_analyses_nobody(store):
    person = await store.ensure_person("discord", "u503")
    group = await store.ensure_chat("discord", "g503", "group")
    await store.give_consent(person, "analyse", group)
    settings = await store.chat_settings(group)
    await store.set_chat_settings(group, type(settings)(analysis=False))
    assert not await store.may_analyse(person, group)
    with pytest.raises(NotConsented):
        await add_note(store, person, group, "m1")


async def test_note_in_group_without_opt_in_is_refused_and_not_stored(store):
    person = await store.ensure_person("telegram", 504)
    group = await store.ensure_chat("telegram", -9004, "group")
    with pytest.raises(NotConsented) as caught:
        await add_note(store, person, group, 1)
    assert caught.value.code == "not_consented"
    assert await store.chat_notes(group) == []


async def test_giving_consent_twice_keeps_one_grant(store):
    person = await store.ensure_person("telegram", 505)
    first = await store.give_consent(person, "donate_audio", at=at(1))
    second = await store.give_consent(person, "donate_audio", at=at(2))
    assert first == second
    assert len(await store.consents(person)) == 1
    assert await store.may_keep_audio(person)


async def test_consent_scopes_are_checked(store):
    person = await store.ensure_person("telegram", 506)
    private = await store.ensure_chat("telegram", 506, "private")
    group = await store.ensure_chat("telegram", -9006, "group")
    with pytest.raises(ValueError):
        await store.give_consent(person, "analyse", private)
    with pytest.raises(ValueError):
        await store.give_consent(person, "donate_audio", group)


async def test_audio_is_not_kept_without_donation_consent(store, tmp_path):
    person = await store.ensure_person("telegram", 507)
    chat = await store.ensure_chat("telegram", 507, "private")
    note = await add_note(store, person, chat, 1, audio=b"OggS not donated")
    assert note.audio_path is None
    assert (await store.get_note(note.id)).audio_path is None
    assert not any(path.is_file() for path in (tmp_path / "data").rglob("*"))


async def test_donated_audio_is_kept_under_ids_only(store):
    person = await store.ensure_person("telegram", 8_675_309)
    chat = await store.ensure_chat("telegram", 8_675_309, "private")
    await store.give_consent(person, "donate_audio")
    note = await add_note(store, person, chat, 1, audio=b"OggS donated bytes")
    assert note.audio_path == f"audio/telegram/{person.id}/{note.id}.ogg"
    assert "8675309" not in note.audio_path
    assert await store.notes.audio(note) == b"OggS donated bytes"
    assert (await store.get_note(note.id)).audio_path == note.audio_path


async def test_withdrawing_donation_deletes_kept_audio(store):
    person = await store.ensure_person("telegram", 509)
    chat = await store.ensure_chat("telegram", 509, "private")
    await store.give_consent(person, "donate_audio")
    kept = await add_note(store, person, chat, 1, audio=b"OggS 1")
    path = store.audio_file(kept)  # SQLite: a file; PostgreSQL: a row (None here)
    assert await store.notes.audio(kept) == b"OggS 1"

    await store.withdraw_consent(person, "donate_audio")
    assert not await store.may_keep_audio(person)
    assert path is None or not path.exists()
    assert await store.notes.read_audio(kept.id, kept.audio_path) is None
    assert (await store.get_note(kept.id)).audio_path is None
    later = await add_note(store, person, chat, 2, audio=b"OggS 2")
    assert later.audio_path is None
    assert [c.active for c in await store.consents(person)] == [False]

"""A chat that gets a new platform id (a Telegram group upgraded to a supergroup) keeps its data."""

from __future__ import annotations

from datetime import date, time

import pytest

from storage.models import ChatSettings
from tests.storage_factory import add_note, at, open_store

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")

OLD, NEW = -4001, -1004001


@pytest.fixture
async def store(storage_backend, tmp_path):
    async with await open_store(tmp_path) as store:
        yield store


async def test_moved_chat_keeps_consent_notes_votes_and_settings_under_the_new_id(tmp_path):
    settings = ChatSettings(digest=True, digest_time=time(9, 30), language="ko")
    async with await open_store(tmp_path) as store:
        group = await store.ensure_chat("telegram", OLD, "group")
        alice = await store.ensure_person("telegram", 1, display_name="Alice")
        await store.give_consent(alice, "analyse", group, at=at(0))
        note = await add_note(store, alice, group, 5, label="sad")
        await store.set_reply_message(note.id, 6)
        await store.vote(alice, note.id, "angry")
        await store.set_chat_settings(group, settings)

        assert await store.move_chat("telegram", OLD, NEW)

    async with await open_store(tmp_path) as store:  # what was committed, read from the file
        assert await store.find_chat("telegram", OLD) is None
        moved = await store.find_chat("telegram", NEW)
        assert moved is not None and moved.id == group.id and moved.kind == "group"
        assert await store.may_analyse(alice, moved)
        assert await store.chat_settings(moved) == settings
        (kept,) = await store.chat_notes(moved)
        assert (kept.id, kept.label) == (note.id, "sad")
        assert [v.label for v in await store.votes(note.id)] == ["angry"]
        (digest,) = await store.scheduled_digests()
        assert digest.chat.platform_chat_id == str(NEW)


async def test_a_new_message_with_an_old_notes_id_never_lands_on_the_old_note(store):
    # Supergroups number their messages from 1 again, so old and new message ids can meet.
    group = await store.ensure_chat("telegram", OLD, "group")
    alice = await store.ensure_person("telegram", 1)
    await store.give_consent(alice, "analyse", group)
    old_note = await add_note(store, alice, group, 5, label="sad")
    await store.set_reply_message(old_note.id, 6)
    await store.move_chat("telegram", OLD, NEW)
    moved = await store.find_chat("telegram", NEW)

    new_note = await add_note(store, alice, moved, 5, label="happy")
    await store.set_reply_message(new_note.id, 6)

    assert new_note.id != old_note.id
    assert (await store.get_note(old_note.id)).label == "sad"
    kept = await store.get_note(old_note.id)
    assert (kept.platform_message_id, kept.reply_message_id) == (f"{OLD}:5", f"{OLD}:6")
    assert (await store.find_note(moved, 5)).id == new_note.id
    assert (await store.find_note_by_reply(moved, 6)).id == new_note.id


async def test_moving_an_unknown_or_already_moved_chat_changes_nothing(store):
    group = await store.ensure_chat("telegram", OLD, "group")
    alice = await store.ensure_person("telegram", 1)
    await store.give_consent(alice, "analyse", group)
    await add_note(store, alice, group, 5)

    assert await store.move_chat("telegram", OLD, NEW)
    # Telegram posts the migration in both chats: the second message finds nothing to move.
    assert not await store.move_chat("telegram", OLD, NEW)
    assert not await store.move_chat("telegram", -777, NEW)

    moved = await store.find_chat("telegram", NEW)
    assert moved is not None and moved.id == group.id
    (note,) = await store.chat_notes(moved)
    assert note.platform_message_id == f"{OLD}:5"  # qualified once, not twice


async def test_a_new_chat_that_arrived_first_is_folded_in_with_the_later_decisions_holding(
    store,
):
    old = await store.ensure_chat("telegram", OLD, "group")
    alice, bora, chloe = [await store.ensure_person("telegram", i) for i in (1, 2, 3)]
    await store.give_consent(alice, "analyse", old, at=at(0))
    await store.give_consent(bora, "analyse", old, at=at(0))
    await add_note(store, alice, old, 5, label="sad")
    await store.set_chat_settings(
        old, ChatSettings(digest=True, digest_time=time(9, 30), language="ko")
    )
    # Before the migration message was handled, the new id already saw: Bora opting in and out
    # again, Chloe opting in and speaking, and an admin switching analysis off there.
    new = await store.ensure_chat("telegram", NEW, "group")
    await store.give_consent(bora, "analyse", new, at=at(10))
    await store.withdraw_consent(bora, "analyse", new, at=at(20))
    await store.give_consent(chloe, "analyse", new, at=at(15))
    chloes = await add_note(store, chloe, new, 5, label="happy")
    await store.set_chat_settings(new, ChatSettings(analysis=False))

    assert await store.move_chat("telegram", OLD, NEW)

    merged = await store.find_chat("telegram", NEW)
    assert merged is not None and merged.id == old.id
    notes = await store.chat_notes(merged)
    assert sorted((n.person.id, n.platform_message_id) for n in notes) == [
        (alice.id, f"{OLD}:5"),
        (chloe.id, "5"),
    ]
    assert (await store.find_note(merged, 5)).id == chloes.id
    assert _grants(await store.consents(alice)) == [(old.id, at(0), None)]
    # Bora's old grant ended when Bora decided again in the new chat; the opt-out holds.
    assert _grants(await store.consents(bora)) == [
        (old.id, at(0), at(10)),
        (old.id, at(10), at(20)),
    ]
    assert _grants(await store.consents(chloe)) == [(old.id, at(15), None)]
    # The switch made in the new chat wins; what it left at the defaults keeps the group's values.
    assert await store.chat_settings(merged) == ChatSettings(
        analysis=False, digest=True, digest_time=time(9, 30), language="ko"
    )
    assert not await store.may_analyse(chloe, merged)


def _grants(consents) -> list[tuple]:
    return [(c.chat_id, c.given_at, c.withdrawn_at) for c in consents]


async def test_a_digest_posted_under_either_id_is_not_posted_again_after_the_fold(store):
    old = await store.ensure_chat("telegram", OLD, "group")
    await store.set_chat_settings(old, ChatSettings(digest=True, digest_time=time(9, 30)))
    new = await store.ensure_chat("telegram", NEW, "group")
    await store.set_chat_settings(new, ChatSettings(digest=True, digest_time=time(9, 30)))
    assert await store.claim_digest(new, date(2030, 1, 1))

    assert await store.move_chat("telegram", OLD, NEW)
    moved = await store.find_chat("telegram", NEW)

    assert moved is not None and moved.id == old.id
    assert not await store.claim_digest(moved, date(2030, 1, 1))
    assert await store.claim_digest(moved, date(2030, 1, 2))

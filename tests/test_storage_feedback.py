"""Feedback votes, their aggregation into one label, and the export for retraining."""

from __future__ import annotations

import csv

import pytest

from storage.errors import FolderNotEmpty, InvalidLabel, InvalidValue, NoteNotFound
from storage.export import export_feedback
from tests.storage_factory import add_note, at, open_store

# Each test runs on SQLite and on PostgreSQL (see storage_backend in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("storage_backend")


@pytest.fixture
async def store(storage_backend, tmp_path):
    async with await open_store(tmp_path) as store:
        yield store


async def _note_with_voters(store, voters: int, *, model_label="happy"):
    group = await store.ensure_chat("telegram", -3000, "group")
    speaker = await store.ensure_person("telegram", 3000)
    await store.give_consent(speaker, "analyse", group)
    note = await add_note(store, speaker, group, 1, label=model_label)
    people = [await store.ensure_person("telegram", 3001 + i) for i in range(voters)]
    return note, people


async def test_majority_of_votes_is_the_final_label(store):
    note, (a, b, c) = await _note_with_voters(store, 3)
    await store.vote(a, note.id, "sad", at=at(1))
    await store.vote(b, note.id, "angry", at=at(2))
    await store.vote(c, note.id, "angry", at=at(3))
    assert await store.final_label(note.id) == "angry"


async def test_tie_goes_to_the_label_voted_first(store):
    note, (a, b, c, d) = await _note_with_voters(store, 4)
    await store.vote(a, note.id, "angry", at=at(5))
    await store.vote(b, note.id, "sad", at=at(1))
    await store.vote(c, note.id, "angry", at=at(6))
    await store.vote(d, note.id, "sad", at=at(7))
    assert await store.final_label(note.id) == "sad"


async def test_new_vote_replaces_the_old_one_and_counts_from_its_own_time(store):
    note, (a, b) = await _note_with_voters(store, 2)
    await store.vote(a, note.id, "sad", at=at(1))
    await store.vote(b, note.id, "angry", at=at(2))
    assert await store.final_label(note.id) == "sad"
    # a changes their mind: the tie is now sad (3 s) against angry (2 s), so angry came first.
    await store.vote(a, note.id, "sad", intensity=0.9, at=at(3))
    votes = await store.votes(note.id)
    assert [(v.voter_id, v.label, v.intensity) for v in votes] == [
        (b.id, "angry", None),
        (a.id, "sad", 0.9),
    ]
    assert await store.final_label(note.id) == "angry"
    await store.vote(a, note.id, "angry", at=at(4))
    assert [v.label for v in await store.votes(note.id)] == ["angry", "angry"]


async def test_model_answer_is_never_counted_as_a_vote(store):
    note, (a,) = await _note_with_voters(store, 1, model_label="happy")
    assert await store.final_label(note.id) is None
    await store.vote(a, note.id, "sad")
    # Had the model's "happy" counted, this would be a 1-1 tie that "happy" wins by coming first.
    assert await store.final_label(note.id) == "sad"


async def test_final_labels_of_many_notes_at_once(store):
    note, (a, b) = await _note_with_voters(store, 2)
    group = await store.get_chat(note.chat_id)
    other = await add_note(store, note.person, group, 2)
    silent = await add_note(store, note.person, group, 3)
    await store.vote(a, note.id, "calm")
    await store.vote(b, other.id, "bored")
    assert await store.final_labels([note.id, other.id, silent.id]) == {
        note.id: "calm",
        other.id: "bored",
    }


async def test_bad_votes_raise_typed_errors_and_store_nothing(store):
    note, (a,) = await _note_with_voters(store, 1)
    with pytest.raises(NoteNotFound) as missing:
        await store.vote(a, note.id + 100, "sad")
    assert missing.value.code == "note_not_found"
    with pytest.raises(InvalidLabel):
        await store.vote(a, note.id, "SAD!")
    with pytest.raises(InvalidValue):
        await store.vote(a, note.id, "sad", intensity=1.5)
    assert await store.votes(note.id) == []


async def test_unvote_withdraws_only_that_persons_vote_and_only_for_the_given_label(store):
    note, (a, b) = await _note_with_voters(store, 2)
    await store.vote(a, note.id, "sad", at=at(1))
    await store.vote(b, note.id, "sad", at=at(2))

    assert await store.unvote(a, note.id, "sad")

    assert [(v.voter_id, v.label) for v in await store.votes(note.id)] == [(b.id, "sad")]
    assert not await store.unvote(a, note.id, "sad")  # nothing left to withdraw
    # b has since changed their mind: withdrawing "sad" must not take the later "angry" away.
    await store.vote(b, note.id, "angry", at=at(3))
    assert not await store.unvote(b, note.id, "sad")
    assert [v.label for v in await store.votes(note.id)] == ["angry"]
    assert await store.unvote(b, note.id)  # without a label, whatever b voted goes
    assert await store.votes(note.id) == []
    assert await store.final_label(note.id) is None


async def test_unvote_with_an_unknown_label_raises_and_deletes_nothing(store):
    note, (a,) = await _note_with_voters(store, 1)
    await store.vote(a, note.id, "sad")
    with pytest.raises(InvalidLabel):
        await store.unvote(a, note.id, "SAD!")
    assert [v.label for v in await store.votes(note.id)] == ["sad"]


async def test_export_writes_only_donated_voted_audio_with_a_manifest(store, tmp_path):
    private = await store.ensure_chat("telegram", 4001, "private")
    donor = await store.ensure_person("telegram", 4001)
    keeper = await store.ensure_person("telegram", 4002)
    keeper_chat = await store.ensure_chat("telegram", 4002, "private")
    await store.give_consent(donor, "donate_audio")
    voted = await add_note(store, donor, private, 1, label="happy", audio=b"OggS voted")
    await add_note(store, donor, private, 2, label="sad", audio=b"OggS never voted")
    not_donated = await add_note(store, keeper, keeper_chat, 1, audio=b"OggS private")
    await store.vote(keeper, voted.id, "angry")
    await store.vote(donor, voted.id, "angry")
    await store.vote(donor, not_donated.id, "sad")

    manifest = await export_feedback(store, tmp_path / "export")

    rows = _read_csv(manifest)
    assert rows == [
        {
            "path": f"audio/telegram/{donor.id}/{voted.id}.ogg",
            "label": "angry",
            "speaker": f"telegram:{donor.id}",
        }
    ]
    assert (manifest.parent / rows[0]["path"]).read_bytes() == b"OggS voted"
    exported = sorted(p.name for p in (tmp_path / "export").rglob("*") if p.is_file())
    assert exported == [f"{voted.id}.ogg", "manifest.csv"]

    from data_augment.datasets import read_manifest

    (clip,) = read_manifest(manifest)
    assert clip.path.read_bytes() == b"OggS voted"
    assert clip.label == "angry"
    assert clip.speaker == f"telegram:{donor.id}"

    with pytest.raises(FolderNotEmpty):
        await export_feedback(store, tmp_path / "export")


def _read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))

"""The platform-neutral service with real parts: a SQLite file, a tiny HuBERT, real Opus notes."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import matplotlib.image as mpimg
import numpy as np
import pytest

from bots.core.service import VoiceMoodService
from bots.core.values import Reply, User, VoiceNote, Where
from bots.i18n import t
from inference.baseline import SpeakerBaseline
from inference.cues import CueBaseline
from inference.errors import VoiceMoodError
from inference.labels import CANONICAL_LABELS
from inference.models.hf import HFAudioClassifier
from storage.models import StoredBaseline
from tests.service_factory import running_service
from tests.stats_model import StatsModel

ALICE = User("telegram", "101", "Alice", "en")
BORA = User("telegram", "202", "Bora", "ko-KR")
DM_ALICE = Where("telegram", "101", is_group=False)
GROUP = Where("telegram", "-500", is_group=True)


@pytest.fixture
async def service(tiny_hubert_dir, tmp_path):
    async with running_service(HFAudioClassifier.load(str(tiny_hubert_dir)), tmp_path) as built:
        yield built


@pytest.fixture
def ogg(make_audio) -> bytes:
    return make_audio("note.ogg", 2.0).read_bytes()


def _note(data: bytes, message_id: str = "1") -> VoiceNote:
    async def fetch() -> bytes:
        return data

    return VoiceNote(message_id, fetch, size=len(data))


async def _vote_labels(service: VoiceMoodService, note_id: int) -> list[str]:
    return [v.label for v in await service.store.votes(note_id)]


async def test_private_voice_note_gets_tone_confidence_and_feedback_buttons(service, ogg):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    assert reply is not None and reply.note_id is not None
    assert "tone" in reply.text and "%" in reply.text
    assert [b.data for b in reply.buttons[0]] == [f"ok:{reply.note_id}", f"pick:{reply.note_id}"]
    stored = await service.store.get_note(reply.note_id)
    assert stored.label in CANONICAL_LABELS and stored.audio_path is None


async def test_group_voice_note_without_consent_is_ignored_and_not_stored(service, ogg):
    assert await service.on_voice(ALICE, GROUP, _note(ogg)) is None
    chat = await service.store.ensure_chat("telegram", "-500", "group")
    assert await service.store.chat_notes(chat) == []
    # Not even the fact that Alice spoke is kept.
    assert await service.store.get_person("telegram", ALICE.id) is None


async def test_group_voice_note_after_opt_in_is_answered(service, ogg):
    reply = await service.on_command(ALICE, GROUP, "optin", [])
    assert "Alice" in reply.text
    answer = await service.on_voice(ALICE, GROUP, _note(ogg))
    assert answer is not None and answer.note_id is not None


async def test_the_group_intro_offers_opt_in_and_names_the_ai_act_limit(service, ogg):
    intro = await service.on_group_joined(GROUP)
    assert "Art. 5(1)(f)" in intro.text
    (button,) = intro.buttons[0]
    answer = await service.on_button(BORA, GROUP, button.data)
    assert "Bora" in answer.notice
    assert await service.on_voice(BORA, GROUP, _note(ogg)) is not None


async def test_audio_is_kept_only_after_donating_and_deleted_on_withdrawal(service, ogg):
    first = await service.on_voice(ALICE, DM_ALICE, _note(ogg, "1"))
    assert (await service.store.get_note(first.note_id)).audio_path is None
    await service.on_command(ALICE, DM_ALICE, "donate", ["on"])
    second = await service.on_voice(ALICE, DM_ALICE, _note(ogg, "2"))
    kept = (await service.store.get_note(second.note_id)).audio_path
    assert kept and (service.store.data_dir / kept).read_bytes() == ogg
    off = await service.on_command(ALICE, DM_ALICE, "donate", ["off"])
    assert "1" in off.text
    assert not (service.store.data_dir / kept).exists()


async def test_right_button_records_the_models_label_and_edits_the_message(service, ogg):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    answer = await service.on_button(ALICE, DM_ALICE, f"ok:{reply.note_id}", reply.text)
    model_label = (await service.store.get_note(reply.note_id)).label
    assert await _vote_labels(service, reply.note_id) == [model_label]
    assert answer.edit is not None and answer.edit.text.startswith(reply.text)
    assert "🗳" in answer.edit.text and "×1" in answer.edit.text


async def test_picking_a_label_votes_for_it_and_replaces_the_earlier_vote(service, ogg):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    await service.on_button(ALICE, DM_ALICE, f"ok:{reply.note_id}", reply.text)
    picker = await service.on_button(ALICE, DM_ALICE, f"pick:{reply.note_id}", reply.text)
    choices = [b.data for row in picker.edit.buttons for b in row]
    assert f"lab:{reply.note_id}:sad" in choices and f"back:{reply.note_id}" in choices
    answer = await service.on_button(ALICE, DM_ALICE, f"lab:{reply.note_id}:sad", reply.text)
    assert await _vote_labels(service, reply.note_id) == ["sad"]
    assert answer.edit.text.count("🗳") == 1


async def test_an_edit_after_a_vote_is_rendered_from_the_note_not_the_message(service, ogg):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    # Whatever the platform hands back (clipped, reformatted, nothing), the answer is the note's.
    first = await service.on_button(ALICE, DM_ALICE, f"ok:{reply.note_id}", "")
    picker = await service.on_button(ALICE, DM_ALICE, f"pick:{reply.note_id}", "clipped…")
    second = await service.on_button(ALICE, DM_ALICE, f"lab:{reply.note_id}:sad", first.edit.text)

    assert first.edit.text.startswith(f"{reply.text}\n\n🗳")
    assert picker.edit.text == reply.text
    assert second.edit.text.startswith(f"{reply.text}\n\n🗳") and second.edit.text.count("🗳") == 1


async def test_an_answer_stored_before_its_text_was_kept_is_taken_from_the_message(service):
    person = await service.store.ensure_person("telegram", ALICE.id)
    chat = await service.store.ensure_chat("telegram", DM_ALICE.chat_id, "private", owner=person)
    old = await service.store.add_note(
        person,
        chat,
        message_id="9",
        duration_s=2.0,
        model="m",
        label="sad",
        confidence=0.7,
        probabilities={"sad": 0.7, "neutral": 0.3},
    )
    shown = "Sounds sad (70 %)\n\n🗳 earlier tally"

    answer = await service.on_button(ALICE, DM_ALICE, f"ok:{old.id}", shown)

    assert old.answer_text is None
    assert (
        answer.edit.text.startswith("Sounds sad (70 %)\n\n🗳") and "earlier" not in answer.edit.text
    )


async def test_a_vote_on_a_forgotten_note_gets_a_polite_answer(service):
    answer = await service.on_button(ALICE, DM_ALICE, "lab:999:sad")
    assert "no longer stored" in answer.notice


async def test_a_reaction_on_the_answer_counts_as_a_vote(service, ogg):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    await service.remember_reply(DM_ALICE, reply.note_id, "9001")
    assert await service.on_reaction(ALICE, DM_ALICE, "9001", "😢")
    assert await _vote_labels(service, reply.note_id) == ["sad"]
    assert not await service.on_reaction(ALICE, DM_ALICE, "9001", "🎉")
    assert not await service.on_reaction(ALICE, DM_ALICE, "12345", "😢")


async def test_removing_a_reaction_withdraws_its_vote_but_not_a_later_different_one(service, ogg):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    await service.remember_reply(DM_ALICE, reply.note_id, "9001")
    await service.on_reaction(ALICE, DM_ALICE, "9001", "😢")

    assert await service.on_reaction_removed(ALICE, DM_ALICE, "9001", "😢")
    assert await _vote_labels(service, reply.note_id) == []

    await service.on_reaction(ALICE, DM_ALICE, "9001", "😢")
    await service.on_reaction(ALICE, DM_ALICE, "9001", "😠")
    assert not await service.on_reaction_removed(ALICE, DM_ALICE, "9001", "😢")
    assert await _vote_labels(service, reply.note_id) == ["angry"]
    # 👍 votes for the model's own label, and taking it away withdraws exactly that vote.
    await service.on_reaction(ALICE, DM_ALICE, "9001", "👍")
    assert await service.on_reaction_removed(ALICE, DM_ALICE, "9001", "👍")
    assert await _vote_labels(service, reply.note_id) == []


async def test_removing_a_reaction_by_someone_never_seen_records_nothing_about_them(service, ogg):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    await service.remember_reply(DM_ALICE, reply.note_id, "9001")
    assert not await service.on_reaction_removed(BORA, DM_ALICE, "9001", "😢")
    assert await service.store.get_person("telegram", BORA.id) is None


async def test_a_reaction_handled_before_its_answer_is_linked_still_counts(service, ogg):
    service.reply_link_wait_s = 5.0  # only an upper bound: the link comes much sooner
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))

    reacting = asyncio.create_task(service.on_reaction(ALICE, DM_ALICE, "9001", "😢"))
    await asyncio.sleep(0.2)  # the reaction is being handled: its first look found no link
    await service.remember_reply(DM_ALICE, reply.note_id, "9001")

    assert await reacting
    assert await _vote_labels(service, reply.note_id) == ["sad"]


async def test_a_reaction_on_a_message_never_linked_gives_up_after_the_bounded_wait(service, ogg):
    service.reply_link_wait_s = 0.1
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    await service.remember_reply(DM_ALICE, reply.note_id, "9001")
    await service.on_reaction(ALICE, DM_ALICE, "9001", "😢")

    async with asyncio.timeout(10):  # a guard against waiting forever, not a timing claim
        assert not await service.on_reaction(ALICE, DM_ALICE, "12345", "😠")
        assert not await service.on_reaction_removed(ALICE, DM_ALICE, "12345", "😢")

    assert await _vote_labels(service, reply.note_id) == ["sad"]


async def test_corrupt_audio_gets_a_polite_error_and_nothing_is_stored(service):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(b"OggS" + b"\x00garbage" * 40))
    assert reply is not None and reply.note_id is None
    assert "couldn't read" in reply.text
    chat = await service.store.ensure_chat("telegram", "101", "private")
    assert await service.store.chat_notes(chat) == []


async def test_a_file_over_the_size_limit_is_refused_before_downloading(service):
    async def fetch() -> bytes:
        raise AssertionError("must not download")

    reply = await service.on_voice(ALICE, DM_ALICE, VoiceNote("1", fetch, size=10**9))
    assert "too large" in reply.text


async def test_forget_asks_first_and_only_the_asker_can_confirm(service, ogg):
    await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    ask = await service.on_command(ALICE, DM_ALICE, "forget", [])
    yes, no = ask.buttons[0]
    # Bora's Telegram is in Korean, so the refusal is too.
    assert (await service.on_button(BORA, DM_ALICE, yes.data)).notice == t("ko", "forget.not_yours")
    assert await service.store.get_person("telegram", "101") is not None
    done = await service.on_button(ALICE, DM_ALICE, yes.data)
    assert "deleted everything" in done.notice and "1 note," in done.notice
    assert await service.store.get_person("telegram", "101") is None


async def test_language_follows_the_platform_then_the_persons_choice(service, ogg):
    reply = await service.on_voice(BORA, Where("telegram", "202", False), _note(ogg))
    assert "목소리 톤" in reply.text or "확실하지 않아요" in reply.text
    await service.on_command(ALICE, DM_ALICE, "lang", ["ko"])
    assert "한국어" in (await service.on_command(ALICE, DM_ALICE, "lang", ["ko"])).text
    assert "/optin" in (await service.on_command(ALICE, DM_ALICE, "help", [])).text
    assert "분석" in (await service.on_command(ALICE, DM_ALICE, "help", [])).text


async def test_only_admins_switch_analysis_off_and_then_nobody_is_analysed(service, ogg):
    await service.on_command(ALICE, GROUP, "optin", [])
    refused = await service.on_command(ALICE, GROUP, "analysis", ["off"])
    assert "admins" in refused.text
    await service.on_command(BORA, GROUP, "analysis", ["off"], is_admin=True)
    assert await service.on_voice(ALICE, GROUP, _note(ogg)) is None


async def test_summary_sends_text_and_a_chart_and_says_when_empty(service, ogg):
    empty = await service.on_command(ALICE, GROUP, "summary", ["week"])
    assert empty.photo is None and "No analysed voice notes" in empty.text
    await service.on_command(ALICE, GROUP, "optin", [])
    for i in range(3):
        await service.on_voice(ALICE, GROUP, _note(ogg, str(i)))
    reply = await service.on_command(ALICE, GROUP, "summary", ["3"])
    assert isinstance(reply, Reply) and reply.photo is not None
    assert "3 voice notes" in reply.text and "Alice" in reply.text
    assert mpimg.imread(io.BytesIO(reply.photo), format="png").shape[0] == 1440
    assert "/summary" in (await service.on_command(ALICE, GROUP, "summary", ["yesterday"])).text


async def test_digest_is_for_admins_and_schedules_the_chat(service):
    assert "admins" in (await service.on_command(ALICE, GROUP, "digest", ["on"])).text
    reply = await service.on_command(ALICE, GROUP, "digest", ["on", "09:30"], is_admin=True)
    assert "09:30" in reply.text
    (scheduled,) = await service.store.scheduled_digests()
    assert scheduled.chat.platform_chat_id == "-500"
    await service.on_command(ALICE, GROUP, "digest", ["off"], is_admin=True)
    assert await service.store.scheduled_digests() == []


async def test_unknown_commands_get_a_pointer_to_help(service):
    assert "/help" in (await service.on_command(ALICE, DM_ALICE, "dance", [])).text


def test_button_data_fits_telegrams_64_byte_limit():
    longest = f"lab:{2**63}:{max(CANONICAL_LABELS, key=len)}"
    assert len(longest.encode()) <= 64
    assert len(f"forget:yes:{'9' * 20}".encode()) <= 64


async def test_a_button_cannot_vote_on_a_note_from_another_chat(service, ogg):
    reply = await service.on_voice(ALICE, DM_ALICE, _note(ogg))
    answer = await service.on_button(BORA, GROUP, f"lab:{reply.note_id}:sad")
    assert answer.edit is None
    assert await _vote_labels(service, reply.note_id) == []


# Uploads from outside any chat (the web page)

WEB_DONOR = User("web", "d0n0r", "")


async def test_an_upload_without_a_donor_is_answered_and_nothing_is_stored(service, ogg):
    heard = await service.on_upload(_note(ogg))
    assert heard.prediction.label in CANONICAL_LABELS and heard.note_id is None
    assert await service.store.get_person("web", WEB_DONOR.id) is None
    assert not any(p.is_file() for p in service.store.data_dir.rglob("*"))


async def test_a_donors_upload_is_their_donation_kept_in_their_own_private_chat(service, ogg):
    heard = await service.on_upload(_note(ogg, "u1"), WEB_DONOR)
    note = await service.store.get_note(heard.note_id)
    assert (note.person.platform, note.person.platform_user_id) == ("web", WEB_DONOR.id)
    assert note.label == heard.prediction.label
    assert service.store.audio_file(note).read_bytes() == ogg
    assert await service.store.may_keep_audio(note.person)
    chat = await service.store.find_chat("web", WEB_DONOR.id)
    assert chat is not None and chat.kind == "private" and chat.id == note.chat_id
    # The same rules as a chat donor's: /donate off deletes the kept audio.
    web_chat = Where("web", WEB_DONOR.id, is_group=False)
    await service.on_command(WEB_DONOR, web_chat, "donate", ["off"])
    assert (await service.store.get_note(note.id)).audio_path is None


async def test_an_upload_that_cannot_be_analysed_raises_and_leaves_no_trace_of_its_donor(
    service,
):
    with pytest.raises(VoiceMoodError) as raised:
        await service.on_upload(_note(b"OggS" + b"\x00garbage" * 200), WEB_DONOR)
    assert raised.value.code == "undecodable"
    assert await service.store.get_person("web", WEB_DONOR.id) is None


async def test_an_upload_vote_counts_only_from_the_notes_own_donor(service, ogg):
    heard = await service.on_upload(_note(ogg), WEB_DONOR)
    stranger = User("web", "stranger", "")
    assert await service.on_upload_vote(stranger, heard.note_id, "sad") == "refused"
    assert await service.on_upload_vote(None, heard.note_id, "sad") == "refused"
    assert await service.on_upload_vote(WEB_DONOR, heard.note_id, "other") == "refused"
    # A stranger's refused vote leaves no trace of them either.
    assert await service.store.get_person("web", stranger.id) is None
    assert await service.on_upload_vote(WEB_DONOR, heard.note_id, "sad") == "counted"
    assert await _vote_labels(service, heard.note_id) == ["sad"]
    assert await service.on_upload_vote(WEB_DONOR, heard.note_id + 1, "sad") == "refused"


async def test_forget_says_what_went_and_the_second_time_that_nothing_is_left(service, ogg):
    heard = await service.on_upload(_note(ogg), WEB_DONOR)
    assert await service.on_upload_vote(WEB_DONOR, heard.note_id, "calm") == "counted"
    assert await service.forget(WEB_DONOR, "en") == t(
        "en", "forget.done", notes=1, votes=1, audio=1
    )
    assert await service.forget(WEB_DONOR, "en") == t("en", "forget.nothing")
    assert not any(p.is_file() for p in service.store.data_dir.rglob("*"))


# A voice baseline ("learns your voice"), with a model that embeds


@pytest.fixture
def stats_model() -> StatsModel:
    return StatsModel()


@pytest.fixture
async def learning(stats_model, tmp_path):
    """The service over a model that embeds, so notes can update a speaker baseline."""
    async with running_service(stats_model, tmp_path) as built:
        yield built


async def _learned(service: VoiceMoodService, user: User) -> int | None:
    person = await service.store.get_person(user.platform, user.id)
    kept = await service.store.baseline(person, StatsModel.name) if person else None
    return kept.count if kept else None


async def _cues_learned(service: VoiceMoodService, user: User) -> int | None:
    person = await service.store.get_person(user.platform, user.id)
    kept = await service.store.cue_baseline(person) if person else None
    return CueBaseline.from_bytes(kept).count if kept else None


async def test_baseline_on_learns_from_each_note_and_reads_the_next_against_it(
    learning, stats_model, ogg
):
    off = await learning.on_command(ALICE, DM_ALICE, "baseline", [])
    assert off.text == t("en", "baseline.status_off") and "never audio" in off.text
    assert (await learning.on_command(ALICE, DM_ALICE, "baseline", ["on"])).text == t(
        "en", "baseline.on"
    )

    first = await learning.on_voice(ALICE, DM_ALICE, _note(ogg, "1"))
    second = await learning.on_voice(ALICE, DM_ALICE, _note(ogg, "2"))

    # The first note had nothing to be read against; the second met what the first taught.
    assert stats_model.baseline_counts == [None, 1]
    status = await learning.on_command(ALICE, DM_ALICE, "baseline", [])
    assert status.text == t("en", "baseline.status_on", count=2)
    # The same recording, heard against Alice's usual voice, reads differently.
    one, two = [await learning.store.get_note(r.note_id) for r in (first, second)]
    assert one.probabilities != two.probabilities
    assert await _cues_learned(learning, ALICE) == 2  # the voice cues learned beside it
    assert not any(p.is_file() for p in learning.store.data_dir.rglob("*"))  # no audio kept


async def test_without_baseline_consent_nothing_is_learned_or_applied(learning, stats_model, ogg):
    await learning.on_voice(ALICE, DM_ALICE, _note(ogg, "1"))
    await learning.on_voice(ALICE, DM_ALICE, _note(ogg, "2"))
    assert stats_model.baseline_counts == [None, None]
    assert await _learned(learning, ALICE) is None
    assert await _cues_learned(learning, ALICE) is None


async def test_baseline_off_deletes_what_was_learned_and_notes_are_read_plainly_again(
    learning, stats_model, ogg
):
    await learning.on_command(ALICE, DM_ALICE, "baseline", ["on"])
    await learning.on_voice(ALICE, DM_ALICE, _note(ogg, "1"))
    assert await _learned(learning, ALICE) == 1

    off = await learning.on_command(ALICE, DM_ALICE, "baseline", ["off"])
    await learning.on_voice(ALICE, DM_ALICE, _note(ogg, "2"))

    assert off.text == t("en", "baseline.off")
    assert await _learned(learning, ALICE) is None
    assert await _cues_learned(learning, ALICE) is None
    assert stats_model.baseline_counts == [None, None]
    assert "/baseline on" in (await learning.on_command(ALICE, DM_ALICE, "baseline", [])).text
    assert "/baseline" in (await learning.on_command(ALICE, DM_ALICE, "baseline", ["x"])).text


async def test_a_groups_notes_teach_the_baseline_only_of_members_analysed_there(
    learning, stats_model, ogg
):
    await learning.on_command(ALICE, DM_ALICE, "baseline", ["on"])
    await learning.on_command(BORA, DM_ALICE, "baseline", ["on"])
    await learning.on_command(ALICE, GROUP, "optin", [])

    assert await learning.on_voice(ALICE, GROUP, _note(ogg, "1")) is not None
    assert await learning.on_voice(BORA, GROUP, _note(ogg, "2")) is None  # never opted in there

    # Per person, not per chat: Alice's group note counts in her one baseline.
    assert await _learned(learning, ALICE) == 1
    assert await _learned(learning, BORA) is None
    assert stats_model.baseline_counts == [None]


async def test_a_baseline_built_by_another_model_is_not_applied_and_starts_afresh(
    learning, stats_model, ogg
):
    await learning.on_command(ALICE, DM_ALICE, "baseline", ["on"])
    alice = await learning.store.get_person("telegram", ALICE.id)
    other = SpeakerBaseline.empty(4).updated(np.ones(4, np.float32))
    await learning.store.update_baseline(
        alice, "other-encoder", lambda _: StoredBaseline("other-encoder", 1, 4, other.to_bytes())
    )

    await learning.on_voice(ALICE, DM_ALICE, _note(ogg))

    assert stats_model.baseline_counts == [None]
    assert await _learned(learning, ALICE) == 1
    assert await learning.store.baseline(alice, "other-encoder") is None


async def test_forget_deletes_the_baseline_and_its_consent(learning, ogg):
    await learning.on_command(ALICE, DM_ALICE, "baseline", ["on"])
    await learning.on_voice(ALICE, DM_ALICE, _note(ogg))
    assert await _learned(learning, ALICE) == 1
    assert await _cues_learned(learning, ALICE) == 1

    await learning.forget(ALICE, "en")

    again = await learning.store.ensure_person("telegram", ALICE.id)
    assert await learning.store.baseline_consent(again) is None
    assert await learning.store.baseline(again, StatsModel.name) is None
    assert await learning.store.cue_baseline(again) is None


async def test_a_model_that_does_not_embed_leaves_the_baseline_empty(service, ogg):
    await service.on_command(ALICE, DM_ALICE, "baseline", ["on"])
    assert await service.on_voice(ALICE, DM_ALICE, _note(ogg)) is not None
    status = await service.on_command(ALICE, DM_ALICE, "baseline", [])
    assert status.text == t("en", "baseline.status_on", count=0)
    assert await _cues_learned(service, ALICE) == 1  # cues need no embedding


async def test_a_digest_is_due_once_a_day_even_when_its_minute_was_missed(service):
    await service.on_command(ALICE, DM_ALICE, "digest", ["on", "21:30"])

    def due_at(day: int, hour: int, minute: int):
        return service.due_digests("telegram", datetime(2030, 1, day, hour, minute, tzinfo=UTC))

    before = await due_at(1, 21, 29)
    late = await due_at(1, 21, 34)  # a busy loop, a restart: still that day's digest
    again = await due_at(1, 21, 35)
    elsewhere = await service.due_digests("discord", datetime(2030, 1, 2, 21, 30, tzinfo=UTC))
    too_late = await due_at(2, 23, 0)  # long after: that day's digest is skipped, not sent late
    next_day = await due_at(3, 21, 30)

    assert before == [] and again == [] and elsewhere == [] and too_late == []
    assert [d.where.chat_id for d in late] == [DM_ALICE.chat_id]
    assert [d.day.isoformat() for d in next_day] == ["2030-01-03"]


async def test_a_summary_over_two_model_versions_says_so_and_one_version_does_not(service):
    await service.on_command(ALICE, GROUP, "optin", [])
    person = await service.store.ensure_person("telegram", ALICE.id)
    chat = await service.store.ensure_chat("telegram", GROUP.chat_id, "group")

    async def add(i: int, model: str) -> None:
        await service.store.add_note(
            person,
            chat,
            message_id=str(i),
            duration_s=2.0,
            model=model,
            label="sad",
            confidence=0.7,
            probabilities={"sad": 0.7, "neutral": 0.3},
        )

    for i in range(3):
        await add(i, "compact:v1")
    same = await service.on_command(ALICE, GROUP, "summary", ["week"])
    await add(3, "compact:v2")
    mixed = await service.on_command(ALICE, GROUP, "summary", ["week"])

    assert "model versions" not in same.text
    assert t("en", "summary.models", count=2, models="compact:v1, compact:v2") in mixed.text

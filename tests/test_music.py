"""Music for the mood through the service: the 🎵 button, /music, match and lift, kept, forgotten."""

from __future__ import annotations

import json

import pytest

from bots.core.my_data import export_document
from bots.core.service import VoiceMoodService
from bots.core.values import User, Where
from bots.i18n import t
from inference.affect import valence_arousal
from inference.models.hf import HFAudioClassifier
from inference.music import aim, load_catalogue
from inference.music.suggest import distance
from tests.service_factory import running_service

ALICE = User("telegram", "101", "Alice", "en")
BORA = User("telegram", "202", "Bora", "ko-KR")
DM_ALICE = Where("telegram", "101", is_group=False)
DM_BORA = Where("telegram", "202", is_group=False)
GROUP = Where("telegram", "-500", is_group=True)
SAD = {"sad": 0.9, "neutral": 0.1}
SONGS = {song.key: song for song in load_catalogue()}


@pytest.fixture
async def service(tiny_hubert_dir, tmp_path):
    async with running_service(HFAudioClassifier.load(str(tiny_hubert_dir)), tmp_path) as built:
        yield built


async def _note(service: VoiceMoodService, user: User, where: Where, probabilities=SAD):
    person = await service.chats.person(user)
    chat = await service.chats.chat(where, person)
    label = max(probabilities, key=probabilities.get)
    return await service.store.notes.add(
        person,
        chat,
        message_id="1",
        duration_s=2.0,
        model="test",
        label=label,
        confidence=probabilities[label],
        probabilities=probabilities,
    )


async def _tap(service: VoiceMoodService, user: User, where: Where, note_id: int):
    """The songs a tap on 🎵 sent: the reply's text and the catalogue songs it named."""
    answer = await service.on_button(user, where, f"music:{note_id}")
    assert answer.follow is not None and answer.edit is None
    person = await service.chats.person(user)
    choice = await service.store.music.choice(person)
    assert choice is not None
    return answer, [SONGS[key] for key in choice.last_songs]


async def test_the_button_sends_three_catalogue_songs_with_titles_artists_and_links(service):
    note = await _note(service, ALICE, DM_ALICE)

    answer, songs = await _tap(service, ALICE, DM_ALICE, note.id)

    assert answer.notice == t("en", "music.notice")
    text = answer.follow.text
    assert text.startswith("🎵 Three songs near how this note sounds (low: valence")
    assert len(songs) == 3
    for song in songs:
        assert song.title in text and song.artist in text and song.link in text
        assert song.link.startswith("https://www.youtube.com/results?search_query=")
    assert "not by your taste" in text


async def test_match_stays_near_the_mood_and_lift_moves_a_step_toward_calm_and_pleasant(
    service,
):
    note = await _note(service, ALICE, DM_ALICE)
    place = valence_arousal(SAD)
    match_aim, lift_aim = aim(*place, "match"), aim(*place, "lift")

    _, matched = await _tap(service, ALICE, DM_ALICE, note.id)
    lifted_reply = await service.on_command(ALICE, DM_ALICE, "music", ["lift"])
    _, lifted = await _tap(service, ALICE, DM_ALICE, note.id)

    assert lifted_reply.text == t("en", "music.set.lift")
    assert not {s.key for s in matched} & {s.key for s in lifted}
    assert sum(distance(s, match_aim) for s in matched) < sum(
        distance(s, lift_aim) for s in matched
    )
    assert sum(distance(s, lift_aim) for s in lifted) < sum(distance(s, match_aim) for s in lifted)
    assert sum(s.valence for s in lifted) > sum(s.valence for s in matched)


async def test_the_same_three_never_come_twice_in_a_row(service):
    note = await _note(service, ALICE, DM_ALICE)
    last: set[str] = set()
    for _ in range(12):
        _, songs = await _tap(service, ALICE, DM_ALICE, note.id)
        keys = {s.key for s in songs}
        assert len(keys) == 3 and not keys & last
        last = keys


async def test_korean_songs_message_and_a_not_sure_note_says_so(service):
    unsure = await _note(service, BORA, DM_BORA, {"sad": 0.4, "angry": 0.35, "neutral": 0.25})

    answer, songs = await _tap(service, BORA, DM_BORA, unsure.id)

    assert answer.notice == t("ko", "music.notice")
    text = answer.follow.text
    assert text.startswith("🎵 이 메시지의 목소리 톤(")
    assert t("ko", "music.not_sure") in text
    assert all(s.title in text for s in songs)


async def test_music_command_uses_the_latest_note_here_and_says_when_there_is_none(service):
    none = await service.on_command(ALICE, DM_ALICE, "music", [])
    assert none.text == t("en", "music.no_note", mode=t("en", "music.mode.match"))
    await _note(service, ALICE, DM_ALICE)

    songs = await service.on_command(ALICE, DM_ALICE, "music", [])
    wrong = await service.on_command(ALICE, DM_ALICE, "music", ["loud"])

    assert songs.text.startswith("🎵 Three songs near how this note sounds")
    assert wrong.text == t("en", "music.usage", mode=t("en", "music.mode.match"))


async def test_a_button_cannot_reach_another_chats_note(service):
    note = await _note(service, ALICE, DM_ALICE)

    answer = await service.on_button(BORA, GROUP, f"music:{note.id}")

    assert answer.follow is None and answer.notice == t("ko", "music.gone")


async def test_export_shows_the_choice_and_forget_deletes_it(service):
    note = await _note(service, ALICE, DM_ALICE)
    await service.on_command(ALICE, DM_ALICE, "music", ["lift"])
    _, songs = await _tap(service, ALICE, DM_ALICE, note.id)
    person = await service.chats.person(ALICE)

    document = export_document(await service.store.privacy.export(person))
    await service.forget(ALICE, "en")

    assert document["music"]["mode"] == "lift"
    assert document["music"]["last_songs"] == [s.key for s in songs]
    assert "music" in json.dumps(document["about"])
    assert await service.store.people.get_person("telegram", "101") is None
    again = await service.store.people.ensure_person("telegram", "101")
    assert await service.store.music.choice(again) is None


async def test_a_groups_week_summary_ends_with_one_song_near_its_mood_and_today_has_none(service):
    await service.on_command(ALICE, GROUP, "optin", [])
    for _ in range(2):
        await _note(service, ALICE, GROUP)

    week = await service.on_command(ALICE, GROUP, "summary", ["week"])
    today = await service.on_command(ALICE, GROUP, "summary", ["today"])

    last_line = week.text.splitlines()[-1]
    assert last_line.startswith("🎵 A song for the chat's week: ")
    (song,) = [s for s in SONGS.values() if last_line.endswith(" " + s.link)][:1]
    assert distance(song, valence_arousal(SAD)) < 0.5
    assert "🎵" not in today.text and week.photo is not None

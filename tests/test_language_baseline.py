"""The bots' statistics of each speaker's language (VOICEMOOD_LANGUAGE_BASELINE): every analysed
note's vector merged by Welford's rule into its language's where kept (`all`: every language;
`new`: only those the head never trained on), nothing kept with it off, and notes heard against
them once enough notes from enough people exist. Real parts: the Whisper head model code (a tiny
head over a four-number encoder stand-in), the shared worker, the Analyzer, real ffmpeg-encoded
notes, a real SQLite file, and python-telegram-bot against the local fake Telegram."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from bots.core.language_baseline import LanguageBaselineConfig, spoken, trained_languages
from bots.core.my_data import export_document
from bots.core.service import VoiceMoodService
from bots.core.values import User, VoiceNote, Where
from bots.i18n import t
from bots.telegram.app import start_telegram
from inference.analysis import Analyzer
from inference.baseline import SpeakerBaseline
from inference.encoder import PACKAGED_ENCODER, PACKAGED_SHA256, EncoderInfo
from inference.labels import CANONICAL_LABELS
from inference.models import BUNDLED_DIR
from inference.models.base import EmotionModel
from inference.models.whisper_head import (
    HeadCard,
    Heads,
    LinearHead,
    WhisperHeadModel,
    read_head,
)
from inference.remote.client import RemoteConfig, RemoteWorker
from inference.worker import InferenceWorker
from storage.models import Person
from storage.store import Store
from tests.fakes.telegram import Call, FakeTelegram, make_user, private_chat
from tests.service_factory import running_service
from tests.stats_model import POPULATION_MEAN, POPULATION_STD, StatsModel
from voicemood.settings import Settings
from voicemood.wiring import build_service

LABELS = ("neutral", "happy", "sad", "angry")
# The languages the tiny head says it trained on (the bundled head: de, en, ko, pl).
TRAINED = ("en", "ko")
ALICE = User("telegram", "101", "Alice", "en")
CHOI = User("telegram", "303", "Choi", "en-GB")
BORA = User("telegram", "202", "Bora", "ko-KR")
# Telegram tells Urdu speakers' apps apart from English ones; the bot still answers in English.
AMNA = User("telegram", "404", "Amna", "ur")
BILAL = User("telegram", "505", "Bilal", "ur-PK")


def _dm(user: User) -> Where:
    return Where(user.platform, user.id, is_group=False)


class _FourNumbers:
    """An encoder stand-in: a note's four waveform statistics (tests/stats_model.py)."""

    def __init__(self) -> None:
        self.info = EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, 4, "all")
        self.folder = Path(".")

    def embed(self, batch):  # noqa: ANN001, ANN201
        return StatsModel().embed(batch)


def _tiny_head(trained: tuple[str, ...] = TRAINED) -> WhisperHeadModel:
    """The real head model code over a 4x4 linear head, trained (so to speak) on a population
    whose voices sit two spreads away from the test notes', in the `trained` languages, whose
    statistics it ships (as the bundled head does)."""
    weight = np.random.default_rng(5).normal(size=(4, 4)).astype(np.float32)
    shifted = POPULATION_MEAN + 2 * POPULATION_STD
    head = LinearHead(shifted, POPULATION_STD, weight, np.zeros(4, np.float32))
    card = HeadCard(LABELS, "tiny", EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, 4, "all"))
    shipped = SpeakerBaseline(40, shifted, np.square(POPULATION_STD) * 39)
    heads = Heads(head, languages={code: shipped for code in trained})
    return WhisperHeadModel(_FourNumbers(), heads, card)  # type: ignore[arg-type]


@asynccontextmanager
async def _service(
    folder: Path, config: LanguageBaselineConfig | None, model: EmotionModel | None = None
) -> AsyncIterator[VoiceMoodService]:
    store = await Store.open(folder / "db.sqlite3", folder / "data", labels=CANONICAL_LABELS)
    try:
        async with InferenceWorker(model or _tiny_head()) as worker:
            yield VoiceMoodService(Analyzer(worker), store, language_baseline=config)
    finally:
        await store.close()


def _note(data: bytes, message_id: str) -> VoiceNote:
    async def fetch() -> bytes:
        return data

    return VoiceNote(message_id, fetch, size=len(data))


@pytest.fixture
def notes(make_audio) -> list[bytes]:
    """Six different notes (their vectors differ, so a mean and a spread can be checked)."""
    return [make_audio(f"n{i}.ogg", 2.0 + 0.3 * i, seed=i).read_bytes() for i in range(6)]


def _rows(folder: Path, table: str) -> int:
    """How many rows `table` holds, read past the Store."""
    with sqlite3.connect(folder / "db.sqlite3") as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


async def _stats(service: VoiceMoodService, language: str) -> SpeakerBaseline | None:
    kept = await service.store.languages.statistics(language)
    return SpeakerBaseline.from_bytes(kept.count, kept.stats) if kept else None


async def _vector(service: VoiceMoodService, data: bytes) -> np.ndarray:
    heard = await service.analyzer.analyse(data)
    assert heard.embedding is not None
    return heard.embedding


async def test_each_analysed_note_changes_its_chat_languages_statistics_as_welfords_merge_says(
    tmp_path, notes
):
    on = LanguageBaselineConfig(mode="all", min_notes=1000)
    async with _service(tmp_path, on) as service:
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[0], "1"))
        one = await _stats(service, "en")
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[1], "2"))
        two = await _stats(service, "en")
        await service.on_voice(BORA, _dm(BORA), _note(notes[2], "3"))
        ko = await service.store.languages.statistics("ko")
        en = await service.store.languages.statistics("en")
        vectors = [await _vector(service, notes[i]) for i in range(3)]

    expected = SpeakerBaseline.empty(4).updated(vectors[0])
    assert one is not None and one.count == 1
    assert np.allclose(one.mean, expected.mean, rtol=1e-6) and np.allclose(one.m2, 0.0)
    expected = expected.updated(vectors[1])
    assert two is not None and two.count == 2
    assert np.allclose(two.mean, expected.mean, rtol=1e-6)
    assert np.allclose(two.m2, expected.m2, rtol=1e-5)
    assert np.allclose(two.m2, np.square(vectors[0] - vectors[1]) / 2, rtol=1e-4)
    # Bora's platform says Korean: her note is Korean's, not English's. Under `all` both are
    # kept, though the head trained on both.
    assert ko is not None and (ko.count, ko.people, ko.model) == (1, 1, "whisper-head:tiny")
    assert en is not None and (en.count, en.people) == (2, 1)


async def test_with_the_setting_off_nothing_is_kept_and_an_earlier_runs_statistics_go(
    tmp_path, notes
):
    async with _service(tmp_path, LanguageBaselineConfig(mode="all")) as service:
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[0], "1"))
        await service.on_voice(AMNA, _dm(AMNA), _note(notes[2], "3"))
        assert (await service.store.languages.statistics("en")) is not None
    async with _service(tmp_path, LanguageBaselineConfig(mode="off")) as service:
        reply = await service.on_voice(ALICE, _dm(ALICE), _note(notes[1], "2"))
        assert reply is not None and reply.note_id is not None  # the note itself is answered
        await service.on_voice(AMNA, _dm(AMNA), _note(notes[3], "4"))
        assert await service.store.languages.statistics("en") is None
        assert await service.store.languages.statistics("ur") is None
    assert _rows(tmp_path, "language_stats") == _rows(tmp_path, "language_stats_people") == 0


async def test_the_setting_is_read_from_the_environments_settings(tmp_path, monkeypatch):
    store = await Store.open(tmp_path / "db.sqlite3", tmp_path / "data")
    try:
        async with InferenceWorker(_tiny_head()) as worker:
            default = build_service(Analyzer(worker), store, Settings(_env_file=None))
            monkeypatch.setenv("VOICEMOOD_LANGUAGE_BASELINE", "all")
            monkeypatch.setenv("VOICEMOOD_LANGUAGE_BASELINE_MIN", "7")
            monkeypatch.setenv("VOICEMOOD_LANGUAGE_BASELINE_MIN_PEOPLE", "3")
            every = build_service(Analyzer(worker), store, Settings(_env_file=None))
    finally:
        await store.close()
    assert default.languages.config == LanguageBaselineConfig("new", min_notes=20, min_people=5)
    assert every.languages.config == LanguageBaselineConfig("all", min_notes=7, min_people=3)
    assert default.languages.worker is worker
    # Where the bot reads what a remote worker's head trained on: the folder VOICEMOOD_MODEL names.
    assert default.languages.config.head == BUNDLED_DIR


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("new", "new"),
        ("ALL", "all"),
        ("off", "off"),
        # What the setting took while it was a switch still means what it meant.
        ("true", "all"),
        ("1", "all"),
        ("yes", "all"),
        ("on", "all"),
        ("false", "off"),
        ("0", "off"),
        ("no", "off"),
    ],
)
def test_the_setting_takes_off_new_and_all_and_still_the_old_true_and_false(
    monkeypatch, value, mode
):
    monkeypatch.setenv("VOICEMOOD_LANGUAGE_BASELINE", value)
    assert Settings(_env_file=None).language_baseline == mode


def test_the_old_switchs_booleans_still_mean_all_and_off():
    assert Settings(_env_file=None, language_baseline=True).language_baseline == "all"
    assert Settings(_env_file=None, language_baseline=False).language_baseline == "off"


def test_a_setting_it_does_not_know_is_refused(monkeypatch):
    monkeypatch.setenv("VOICEMOOD_LANGUAGE_BASELINE", "some")
    with pytest.raises(ValidationError, match="language_baseline"):
        Settings(_env_file=None)


async def test_a_note_is_heard_against_its_languages_statistics_once_enough_people_sent_enough(
    tmp_path, notes
):
    config = LanguageBaselineConfig(mode="all", min_notes=3, min_people=2)
    async with _service(tmp_path, config) as service:
        for i in range(3):
            await service.on_voice(ALICE, _dm(ALICE), _note(notes[i], str(i)))
        # Three notes, but one person's: not applied yet.
        early = await service.on_voice(ALICE, _dm(ALICE), _note(notes[5], "early"))
        before = await _stats(service, "en")
        await service.on_voice(CHOI, _dm(CHOI), _note(notes[3], "choi"))
        stats = await _stats(service, "en")
        late = await service.on_voice(ALICE, _dm(ALICE), _note(notes[5], "late"))
        assert early is not None and late is not None
        early_note = await service.store.notes.get(early.note_id)
        late_note = await service.store.notes.get(late.note_id)
        plain = await service.analyzer.analyse(notes[5])
        assert stats is not None
        heard = await service.analyzer.analyse(notes[5], language=stats)
        # Korean has no statistics: Bora's note is heard plainly.
        bora = await service.on_voice(BORA, _dm(BORA), _note(notes[5], "bora"))
        bora_note = await service.store.notes.get(bora.note_id)

    assert before is not None and before.count == 4
    assert stats.count == 5
    for label in LABELS:
        assert early_note.probabilities[label] == pytest.approx(plain.probabilities[label])
        assert late_note.probabilities[label] == pytest.approx(heard.probabilities[label])
        assert bora_note.probabilities[label] == pytest.approx(plain.probabilities[label])
    moved = max(abs(heard.probabilities[k] - plain.probabilities[k]) for k in LABELS)
    assert moved > 2e-3, moved  # 5 notes weigh 5 / (5 + 20) of the blend


async def test_privacy_says_what_is_kept_only_when_kept_and_forget_takes_the_mark_not_the_average(
    tmp_path, notes
):
    config = LanguageBaselineConfig(mode="all", min_notes=20, min_people=5)
    async with _service(tmp_path, config) as service:
        said = await service.on_command(ALICE, _dm(ALICE), "privacy", [])
        said_ko = await service.on_command(BORA, _dm(BORA), "privacy", [])
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[0], "1"))
        await service.on_voice(CHOI, _dm(CHOI), _note(notes[1], "2"))
        person = await service.store.people.get_person(ALICE.platform, ALICE.id)
        assert person is not None
        exported = await service.store.privacy.export(person)
        await service.forget(ALICE, "en")
        after = await service.store.languages.statistics("en")
    async with _service(tmp_path, LanguageBaselineConfig(mode="off")) as off:
        said_off = await off.on_command(ALICE, _dm(ALICE), "privacy", [])

    assert said is not None and said_ko is not None and said_off is not None
    kept = t("en", "privacy.languages", notes=20, people=5)
    assert said.text == f"{t('en', 'privacy')}\n\n{kept}"
    assert "20 notes from 5 different people" in kept and "no audio" in kept
    assert t("ko", "privacy.languages", notes=20, people=5) in said_ko.text
    assert said_off.text == t("en", "privacy")
    assert exported.language_statistics == ["en"]
    assert export_document(exported)["language_statistics"] == ["en"]
    # Forgetting takes Alice's mark, but her note stays inside the average.
    assert after is not None and (after.count, after.people) == (2, 2)
    assert _rows(tmp_path, "language_stats_people") == 1


async def test_under_new_an_urdu_speakers_notes_make_and_meet_urdu_statistics_but_english_keep_none(
    tmp_path, notes
):
    config = LanguageBaselineConfig(mode="new", min_notes=3, min_people=2)
    async with _service(tmp_path, config) as service:
        first = await service.on_voice(AMNA, _dm(AMNA), _note(notes[0], "1"))
        await service.on_voice(AMNA, _dm(AMNA), _note(notes[1], "2"))
        await service.on_voice(BILAL, _dm(BILAL), _note(notes[2], "3"))
        urdu = await _stats(service, "ur")
        late = await service.on_voice(AMNA, _dm(AMNA), _note(notes[5], "late"))
        # English and Korean are the head's own: their speakers' notes keep nothing.
        alice = await service.on_voice(ALICE, _dm(ALICE), _note(notes[5], "alice"))
        await service.on_voice(BORA, _dm(BORA), _note(notes[4], "bora"))
        kept = await service.store.languages.statistics("ur")
        english = await service.store.languages.statistics("en")
        korean = await service.store.languages.statistics("ko")
        assert urdu is not None
        heard = await service.analyzer.analyse(notes[5], language=urdu)
        plain = await service.analyzer.analyse(notes[5])
        late_note = await service.store.notes.get(late.note_id)
        alice_note = await service.store.notes.get(alice.note_id)
        amna = await service.store.people.get_person(AMNA.platform, AMNA.id)
        assert amna is not None
        exported = await service.store.privacy.export(amna)

    assert (urdu.count, kept.count, kept.people) == (3, 4, 2)
    assert english is None and korean is None
    assert _rows(tmp_path, "language_stats") == 1
    for label in LABELS:
        assert late_note.probabilities[label] == pytest.approx(heard.probabilities[label])
        assert alice_note.probabilities[label] == pytest.approx(plain.probabilities[label])
    assert max(abs(heard.probabilities[k] - plain.probabilities[k]) for k in LABELS) > 2e-3
    # Only the statistics follow her language: the bot still answers her in English.
    assert first is not None and first.buttons[0][0].text == t("en", "button.right")
    assert exported.language_statistics == ["ur"]


async def test_under_new_a_model_that_does_not_say_what_it_trained_on_keeps_nothing(
    tmp_path, notes
):
    config = LanguageBaselineConfig(mode="new", min_notes=1, min_people=1)
    for model in (StatsModel(), _tiny_head(trained=())):
        async with _service(tmp_path, config, model) as service:
            reply = await service.on_voice(AMNA, _dm(AMNA), _note(notes[0], f"{model.name}"))
            said = await service.on_command(AMNA, _dm(AMNA), "privacy", [])
        assert reply is not None and reply.note_id is not None
        assert said is not None and said.text == t("en", "privacy")
    assert _rows(tmp_path, "language_stats") == _rows(tmp_path, "language_stats_people") == 0


async def test_new_deletes_what_all_kept_of_the_trained_languages_and_keeps_the_others(
    tmp_path, notes
):
    async with _service(tmp_path, LanguageBaselineConfig(mode="all")) as service:
        await service.on_voice(ALICE, _dm(ALICE), _note(notes[0], "1"))
        await service.on_voice(AMNA, _dm(AMNA), _note(notes[1], "2"))
    assert _rows(tmp_path, "language_stats") == _rows(tmp_path, "language_stats_people") == 2
    async with _service(tmp_path, LanguageBaselineConfig(mode="new")) as service:
        await service.on_voice(BORA, _dm(BORA), _note(notes[2], "3"))
        english = await service.store.languages.statistics("en")
        urdu = await service.store.languages.statistics("ur")
    assert english is None
    assert urdu is not None and (urdu.count, urdu.people) == (1, 1)
    assert _rows(tmp_path, "language_stats") == _rows(tmp_path, "language_stats_people") == 1


def _person(language: str | None) -> Person:
    return Person(1, "telegram", "1", language, "P", datetime.now(UTC))


@pytest.mark.parametrize(
    ("chosen", "hint", "chat", "expected"),
    [
        ("ko", "ur", "en", "ko"),  # /lang comes first
        (None, "ur", "en", "ur"),
        (None, "pt-BR", "en", "pt"),
        (None, "EN-us", "ko", "en"),
        (None, "zh_Hant", "en", "zh"),
        (None, "fil", "en", "fil"),
        (None, None, "ko", "ko"),  # a Discord note: no hint, so the chat's language
        (None, "", "en", "en"),
        (None, "x-klingon", "en", "en"),  # not a language's subtag
        (None, "12", "en", "en"),
        (None, "engl", "ko", "ko"),
    ],
)
def test_the_speakers_language_is_their_lang_else_the_platforms_hint_else_the_chats(
    chosen, hint, chat, expected
):
    assert spoken(_person(chosen), User("telegram", "1", "P", hint), chat) == expected


async def test_privacy_under_new_says_the_numbers_are_kept_only_for_languages_never_trained_on(
    tmp_path,
):
    config = LanguageBaselineConfig(mode="new", min_notes=20, min_people=5)
    async with _service(tmp_path, config) as service:
        said = await service.on_command(AMNA, _dm(AMNA), "privacy", [])
        said_ko = await service.on_command(BORA, _dm(BORA), "privacy", [])

    kept = t("en", "privacy.languages.new", notes=20, people=5, trained="en, ko")
    assert said is not None and said.text == f"{t('en', 'privacy')}\n\n{kept}"
    assert "never trained on (it trained on: en, ko)" in kept
    assert "Only for a language" in kept and "kept under consent" in kept
    assert "20 notes from 5 different people" in kept and "no audio" in kept
    kept_ko = t("ko", "privacy.languages.new", notes=20, people=5, trained="en, ko")
    assert said_ko is not None and said_ko.text == f"{t('ko', 'privacy')}\n\n{kept_ko}"
    assert "학습한 언어: en, ko" in kept_ko
    # With the bundled head's four languages, /privacy still fits one Discord message (2000).
    for lang in ("en", "ko"):
        bundled = t(lang, "privacy.languages.new", notes=20, people=5, trained="de, en, ko, pl")
        assert len(f"{t(lang, 'privacy')}\n\n{bundled}") <= 2000


async def test_a_telegram_voice_note_counts_in_the_language_the_senders_app_is_set_to(
    tmp_path, make_audio
):
    """python-telegram-bot against the local fake: Telegram's language_code reaches the key."""
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    urdu, english = make_user(7001, "Amna", language_code="ur"), make_user(7002, "Ann")
    settings = Settings(_env_file=None, language_baseline="new", language_baseline_min=1)
    async with (
        FakeTelegram() as fake,
        running_service(_tiny_head(), tmp_path, settings=settings) as service,
    ):
        handle = await start_telegram(
            service,
            fake.token,
            api_base=f"{fake.base_url}/bot",
            file_base=f"{fake.base_file_url}/file/bot",
            poll_timeout_s=1,
        )
        try:
            replies = []
            for user in (urdu, english):
                sent = fake.send_voice(private_chat(user), user, ogg, duration=2)
                replies.append(await fake.wait_for(_reply_to(sent)))
        finally:
            await handle.stop()
        kept = await service.store.languages.statistics("ur")
        english_kept = await service.store.languages.statistics("en")

    assert kept is not None and (kept.count, kept.people) == (1, 1)
    assert english_kept is None
    # The answer is in English for both: only the statistics' key follows the app's language.
    for reply in replies:
        assert "tone" in reply.params["text"]


def _reply_to(update: dict[str, Any]) -> Callable[[Call], bool]:
    message = update["message"]

    def replies(call: Call) -> bool:
        quoted = call.params.get("reply_parameters") or {}
        return (
            call.method == "sendMessage"
            and call.params.get("chat_id") == message["chat"]["id"]
            and quoted.get("message_id") == message["message_id"]
        )

    return replies


def test_the_bundled_head_names_its_training_languages_and_a_remote_worker_none():
    card, heads = read_head(BUNDLED_DIR)

    class SameEncoder(_FourNumbers):
        def __init__(self) -> None:
            self.info = card.encoder

    model = WhisperHeadModel(SameEncoder(), heads, card)  # type: ignore[arg-type]
    trained = trained_languages(InferenceWorker(model))
    # Its card's corpora: RAVDESS (en), the Korean set (ko), at least.
    assert trained is not None and {"en", "ko"} <= trained and "ur" not in trained
    assert trained == frozenset(heads.languages)
    assert trained_languages(InferenceWorker(StatsModel())) is None
    # A remote worker's model lives in another process: not known here, so `new` keeps nothing.
    assert trained_languages(RemoteWorker(RemoteConfig("redis://127.0.0.1:1"))) is None

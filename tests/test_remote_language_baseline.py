"""A language's statistics reach remote workers: a note sent through Redis with its language's
count, mean and M2 is heard against them exactly as in process, and its vector comes back for the
bot to merge into them; under `new` the bot reads what the workers' head trained on from the
head folder VOICEMOOD_MODEL names. Real parts: the bundled Whisper head in a real
`voicemood worker` process, Debian's redis-server on loopback, the real RemoteWorker.
"""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import numpy as np
import pytest

from bots.core.language_baseline import LanguageBaselineConfig
from bots.core.service import VoiceMoodService
from bots.core.values import User, VoiceNote, Where
from bots.i18n import t
from inference.analysis import AnalysisConfig, Analyzer
from inference.baseline import SpeakerBaseline
from inference.labels import CANONICAL_LABELS
from inference.models import BUNDLED_DIR, load_model
from inference.models.whisper_head import read_head
from inference.remote.protocol import Request
from inference.worker import InferenceWorker
from storage.store import Store
from tests.remote_workers import remote, start_worker
from tests.servers_redis import redis_prefix, redis_server  # noqa: F401  (fixtures)

NO_CUES = AnalysisConfig(cues=False)


def _parsed(request: Request) -> Request:
    """The request as a worker reads it back from the stream's fields and its audio key."""
    fields = request.fields()
    return Request.parse(
        {k.encode(): v.encode() if isinstance(v, str) else v for k, v in fields.items()},
        request.audio(),
    )


def test_a_languages_statistics_and_a_language_code_both_survive_the_stream():
    stats = SpeakerBaseline(7, np.arange(3, dtype=np.float32), np.full(3, 2.5, np.float32))
    wave = [np.zeros(160, np.float32)]
    sent = Request("a", "hear", "r", 1.0, wave, baseline=None, language=stats)
    got = _parsed(sent).language
    assert isinstance(got, SpeakerBaseline) and got.count == 7
    assert np.array_equal(got.mean, stats.mean) and np.array_equal(got.m2, stats.m2)
    assert _parsed(Request("b", "hear", "r", 1.0, wave, language="ko")).language == "ko"
    assert _parsed(Request("c", "hear", "r", 1.0, wave)).language is None


async def test_a_note_sent_with_its_languages_statistics_is_heard_remotely_as_in_process(
    redis_server, redis_prefix, make_audio, tmp_path
):
    others = [make_audio(f"other{i}.ogg", 2.0, seed=30 + i) for i in range(4)]
    note = make_audio("note.ogg", 2.5, seed=3)
    async with InferenceWorker(load_model(None)) as local:
        analyzer = Analyzer(local, NO_CUES)
        language = SpeakerBaseline.empty(local.model.embedding_dim)  # type: ignore[attr-defined]
        for path in others:
            heard = await analyzer.analyse(path)
            assert heard.embedding is not None
            language = language.updated(heard.embedding)
        expected = await analyzer.analyse(note, language=language)
        plain = await analyzer.analyse(note)
    shift = max(
        abs(expected.probabilities[k] - plain.probabilities[k]) for k in plain.probabilities
    )
    assert shift > 1e-3  # the statistics change this answer, so the test can see them arrive

    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, BUNDLED_DIR)
    try:
        async with remote(redis_server.url, redis_prefix) as client:
            got = await Analyzer(client, NO_CUES).analyse(note, language=language)
    finally:
        assert await worker.stop() == 0, worker.text()[-3000:]

    assert got.model == expected.model
    for label, p in expected.probabilities.items():
        assert got.probabilities[label] == pytest.approx(p, abs=1e-4), label
    # The note's vector comes back, for the bot to merge into its language's statistics.
    assert got.embedding is not None and expected.embedding is not None
    assert np.allclose(got.embedding, expected.embedding, atol=1e-4)


async def test_under_new_the_bot_reads_a_remote_workers_training_languages_from_its_head_folder(
    redis_server, redis_prefix, make_audio, tmp_path
):
    """The model is in the worker process; the bot learns what it trained on from the head
    folder VOICEMOOD_MODEL names, so an Urdu speaker's notes are kept and an English one's not."""
    note = make_audio("note.ogg", 2.5, seed=3).read_bytes()
    amna, ann, bilal = (User("telegram", i, n, c) for i, n, c in _PEOPLE)
    store = await Store.open(tmp_path / "db.sqlite3", tmp_path / "data", labels=CANONICAL_LABELS)
    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, BUNDLED_DIR)
    try:
        async with remote(redis_server.url, redis_prefix) as client:
            analyzer = Analyzer(client, NO_CUES)
            reads = LanguageBaselineConfig("new", min_notes=1, min_people=1, head=BUNDLED_DIR)
            service = VoiceMoodService(analyzer, store, language_baseline=reads)
            # Without the folder, nothing tells the bot what the workers' model trained on.
            blind = VoiceMoodService(
                analyzer, store, language_baseline=LanguageBaselineConfig("new", 1, 1)
            )
            for user, bot in ((amna, service), (ann, service), (bilal, blind)):
                reply = await bot.on_voice(user, _dm(user), _voice(note, user.id))
                assert reply is not None and reply.note_id is not None
            urdu = await store.languages.statistics("ur")
            english = await store.languages.statistics("en")
            said = await service.on_command(amna, _dm(amna), "privacy", [])
            said_blind = await blind.on_command(amna, _dm(amna), "privacy", [])
    finally:
        await store.close()
        assert await worker.stop() == 0, worker.text()[-3000:]

    assert urdu is not None and (urdu.count, urdu.people) == (1, 1)
    assert urdu.model == client.name
    assert english is None
    trained = ", ".join(sorted(read_head(BUNDLED_DIR)[1].languages))
    kept = t("en", "privacy.languages.new", notes=1, people=1, trained=trained)
    assert said is not None and said.text.endswith(kept)
    assert said_blind is not None and said_blind.text == t("en", "privacy")


_PEOPLE = (("404", "Amna", "ur"), ("101", "Ann", "en"), ("505", "Bilal", "ur-PK"))


def _dm(user: User) -> Where:
    return Where(user.platform, user.id, is_group=False)


def _voice(data: bytes, message_id: str) -> VoiceNote:
    async def fetch() -> bytes:
        return data

    return VoiceNote(message_id, fetch, size=len(data))

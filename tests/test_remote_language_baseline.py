"""A chat language's statistics reach remote workers: a note sent through Redis with its
language's count, mean and M2 is heard against them exactly as in process, and its vector comes
back for the bot to merge into them. Real parts: the bundled Whisper head in a real
`voicemood worker` process, Debian's redis-server on loopback, the real RemoteWorker.
"""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import numpy as np
import pytest

from inference.analysis import AnalysisConfig, Analyzer
from inference.baseline import SpeakerBaseline
from inference.models import BUNDLED_DIR, load_model
from inference.remote.protocol import Request
from inference.worker import InferenceWorker
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

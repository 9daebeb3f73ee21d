"""A speaker's baseline reaches remote workers: a note sent through Redis with the speaker's
usual voice is heard against it exactly as the in-process worker hears it, and its embedding
comes back to update the baseline. Real parts: the bundled Whisper head in a real
`voicemood worker` process, Debian's redis-server on loopback, the real RemoteWorker.
"""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import numpy as np
import pytest

from inference.analysis import AnalysisConfig, Analyzer
from inference.baseline import SpeakerBaseline
from inference.models import BUNDLED_DIR, load_model
from inference.worker import InferenceWorker
from tests.remote_workers import remote, start_worker
from tests.servers_redis import redis_prefix, redis_server  # noqa: F401  (fixtures)

NO_CUES = AnalysisConfig(cues=False)


async def test_a_note_sent_with_its_speakers_baseline_is_heard_remotely_as_in_process(
    redis_server, redis_prefix, make_audio, tmp_path
):
    usual = [make_audio(f"usual{i}.ogg", 2.0, seed=10 + i) for i in range(3)]
    note = make_audio("note.ogg", 2.5, seed=3)
    async with InferenceWorker(load_model(None)) as local:
        analyzer = Analyzer(local, NO_CUES)
        baseline = SpeakerBaseline.empty(local.model.embedding_dim)  # type: ignore[attr-defined]
        for path in usual:
            heard = await analyzer.analyse(path)
            assert heard.embedding is not None
            baseline = baseline.updated(heard.embedding)
        expected = await analyzer.analyse(note, baseline=baseline)
        plain = await analyzer.analyse(note)
    shift = max(
        abs(expected.probabilities[k] - plain.probabilities[k]) for k in plain.probabilities
    )
    assert shift > 1e-3  # the baseline changes this answer, so the test can see it arrive

    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, BUNDLED_DIR)
    try:
        async with remote(redis_server.url, redis_prefix) as client:
            got = await Analyzer(client, NO_CUES).analyse(note, baseline=baseline)
    finally:
        assert await worker.stop() == 0, worker.text()[-3000:]

    assert got.model == expected.model
    for label, p in expected.probabilities.items():
        assert got.probabilities[label] == pytest.approx(p, abs=1e-4), label
    assert got.embedding is not None and expected.embedding is not None
    assert np.allclose(got.embedding, expected.embedding, atol=1e-4)

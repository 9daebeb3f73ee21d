"""A person's adjustment from their corrections works through remote workers as in process: the
worker sends each window's embedding back with its probabilities, and the adjustment is applied
where the answer arrives, so nothing of the person travels to the worker. Real parts: the bundled
Whisper head in a real `voicemood worker` process, Debian's redis-server on loopback.
"""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import numpy as np
import pytest

from inference.analysis import AnalysisConfig, Analyzer
from inference.baseline import SpeakerBaseline
from inference.models import BUNDLED_DIR, load_model
from inference.personal import Correction, fit_adjustment
from inference.worker import InferenceWorker
from tests.remote_workers import remote, start_worker
from tests.servers_redis import redis_prefix, redis_server  # noqa: F401  (fixtures)

NO_CUES = AnalysisConfig(cues=False)


async def test_a_corrected_persons_note_is_adjusted_alike_through_a_remote_worker(
    redis_server, redis_prefix, make_audio, tmp_path
):
    earlier = [make_audio(f"earlier{i}.ogg", 2.0, seed=20 + i) for i in range(6)]
    note = make_audio("note.ogg", 2.5, seed=3)
    async with InferenceWorker(load_model(None)) as local:
        analyzer = Analyzer(local, NO_CUES)
        labels = list(local.labels)
        heard = [await analyzer.analyse(path) for path in earlier]
        baseline = SpeakerBaseline.empty(heard[0].embedding.size)  # type: ignore[union-attr]
        for h in heard:
            baseline = baseline.updated(h.embedding)  # type: ignore[arg-type]
        plain = await analyzer.analyse(note, baseline=baseline)
        # The person says their notes sound like the model's second reading of them.
        said = plain.top[1][0]
        corrections = [
            Correction(
                h.embedding,  # type: ignore[arg-type]
                np.array([h.probabilities[x] for x in labels]),
                labels.index(said),
            )
            for h in heard
        ]
        personal = fit_adjustment(corrections, baseline)
        assert personal is not None
        expected = await analyzer.analyse(note, baseline=baseline, personal=personal)
    assert expected.label == said != plain.label
    assert expected.unadjusted == pytest.approx(plain.probabilities, abs=1e-5)

    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, BUNDLED_DIR)
    try:
        async with remote(redis_server.url, redis_prefix) as client:
            got = await Analyzer(client, NO_CUES).analyse(
                note, baseline=baseline, personal=personal
            )
    finally:
        assert await worker.stop() == 0, worker.text()[-3000:]

    assert got.label == said
    for label, p in expected.probabilities.items():
        assert got.probabilities[label] == pytest.approx(p, abs=1e-4), label

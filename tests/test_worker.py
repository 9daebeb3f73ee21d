import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from inference.errors import Busy, InferenceTimeout
from inference.models.hf import HFAudioClassifier
from inference.worker import InferenceWorker, WorkerConfig
from tests.audio_factory import speechlike

LABELS: tuple[str, ...] = ("neutral", "happy", "sad", "angry")


class RecordingModel:
    """A real EmotionModel whose answer depends on the clip, which records every batch it runs.

    While `gate` is clear it holds each batch, like a long forward pass, so a test can fill the
    queue behind it.
    """

    name: str = "recording"
    labels: tuple[str, ...] = LABELS

    def __init__(self, *, fail_on_length: int | None = None, held: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail_on_length = fail_on_length
        self.gate = threading.Event()
        if not held:
            self.gate.set()
        self.running = threading.Event()

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        self.running.set()
        self.gate.wait(timeout=10)
        self.batches.append([len(w) for w in batch])
        if self.fail_on_length in {len(w) for w in batch}:
            raise ValueError("this clip breaks the model")
        scores = np.array([[len(w) % 7, float(np.mean(w)), 1.0, 0.5] for w in batch])
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    async def wait_until_running(self) -> None:
        assert await asyncio.to_thread(self.running.wait, 5), "the worker never ran the model"


@pytest.fixture
def held():
    model = RecordingModel(held=True)
    yield model
    model.gate.set()  # never leave the worker's thread blocked after a failed test


def _clip(length: int, value: float = 0.1) -> np.ndarray:
    return np.full(length, value, np.float32)


async def test_fifty_concurrent_callers_get_what_the_model_says_for_their_clip(tiny_hubert_dir):
    model = HFAudioClassifier.load(str(tiny_hubert_dir))
    distinct = [speechlike(0.3 + 0.1 * (i % 3), seed=i) for i in range(10)]
    expected = [model.predict([clip])[0] for clip in distinct]
    callers = [i % 10 for i in range(50)]
    async with InferenceWorker(model, WorkerConfig(max_batch=4)) as worker:
        rows = await asyncio.gather(*(worker.predict(distinct[i]) for i in callers))
        assert worker.labels == model.labels and worker.name == model.name
        assert worker.stats.processed == 50
        assert worker.stats.batches < 50  # equal lengths were grouped
    for i, row in zip(callers, rows, strict=True):
        np.testing.assert_allclose(row, expected[i], atol=1e-6)


async def test_the_windows_of_a_note_come_back_in_order(tiny_hubert_dir):
    model = HFAudioClassifier.load(str(tiny_hubert_dir))
    windows = [speechlike(0.5, seed=s) for s in range(5)]
    async with InferenceWorker(model) as worker:
        rows = await worker.predict_many(windows)
    np.testing.assert_allclose(
        rows, np.concatenate([model.predict([w]) for w in windows]), atol=1e-6
    )


async def test_equal_lengths_share_a_batch_and_different_lengths_never_do(held):
    async with InferenceWorker(held, WorkerConfig(max_batch=3)) as worker:
        first = asyncio.create_task(worker.predict(_clip(500)))
        await held.wait_until_running()
        lengths = [800, 900, 800, 1000, 800, 900, 800]
        rest = [asyncio.create_task(worker.predict(_clip(n))) for n in lengths]
        await asyncio.sleep(0)
        held.gate.set()
        await asyncio.gather(first, *rest)
    # Oldest first, each with its equal-length peers up to max_batch.
    assert held.batches == [[500], [800, 800, 800], [900, 900], [1000], [800]]
    assert worker.stats.batches == 5 and worker.stats.largest_batch == 3


async def test_a_full_queue_answers_busy_at_once(held):
    async with InferenceWorker(held, WorkerConfig(max_queue=2)) as worker:
        running = asyncio.create_task(worker.predict(_clip(500)))
        await held.wait_until_running()
        waiting = [asyncio.create_task(worker.predict(_clip(600))) for _ in range(2)]
        await asyncio.sleep(0)
        assert worker.stats.queued == 2
        # Busy comes without waiting: the model is still held, so any wait would time out instead.
        with pytest.raises(Busy):
            await asyncio.wait_for(worker.predict(_clip(700)), timeout=1.0)
        held.gate.set()
        answers = await asyncio.gather(running, *waiting)
    assert all(row.shape == (4,) for row in answers)
    assert [700] not in held.batches


async def test_a_request_waiting_too_long_raises_inference_timeout(held):
    async with InferenceWorker(held, WorkerConfig(request_timeout_s=0.2)) as worker:
        with pytest.raises(InferenceTimeout):
            await worker.predict(_clip(500))
        held.gate.set()
        row = await worker.predict(_clip(600))
    assert row.sum() == pytest.approx(1.0)


async def test_a_failing_batch_fails_only_its_callers_and_the_worker_keeps_serving():
    model = RecordingModel(fail_on_length=999, held=True)
    try:
        async with InferenceWorker(model, WorkerConfig(max_batch=4)) as worker:
            first = asyncio.create_task(worker.predict(_clip(500)))
            await model.wait_until_running()
            bad = [asyncio.create_task(worker.predict(_clip(999))) for _ in range(2)]
            good = [asyncio.create_task(worker.predict(_clip(1000))) for _ in range(2)]
            await asyncio.sleep(0)
            model.gate.set()
            outcomes = await asyncio.gather(first, *bad, *good, return_exceptions=True)
            after = await worker.predict(_clip(1001))
    finally:
        model.gate.set()
    assert all(isinstance(o, ValueError) for o in outcomes[1:3])
    assert all(isinstance(o, np.ndarray) for o in [outcomes[0], *outcomes[3:]])
    assert after.shape == (4,)
    assert worker.stats.failed == 2


async def test_close_answers_everything_admitted_and_refuses_what_comes_after(held):
    worker = InferenceWorker(held, WorkerConfig(max_batch=2))
    await worker.start()
    admitted = [asyncio.create_task(worker.predict(_clip(500 + i % 2))) for i in range(5)]
    await held.wait_until_running()
    closing = asyncio.create_task(worker.close())
    await asyncio.sleep(0)
    with pytest.raises(Busy):
        await worker.predict(_clip(500))
    held.gate.set()
    await closing
    assert all(task.result().shape == (4,) for task in admitted)
    assert worker.stats.processed == 5


async def test_the_event_loop_keeps_running_while_a_batch_runs():
    # How late the loop runs meanwhile is measured by bench/loop_lag.py, not asserted here.
    started, ticked = threading.Event(), threading.Event()

    class WaitingModel(RecordingModel):
        def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
            started.set()
            # Only the event loop sets `ticked`: a loop blocked by this forward pass never would.
            if not ticked.wait(timeout=10):
                raise AssertionError("the event loop was blocked during the forward pass")
            return super().predict(batch)

    async def ticker() -> None:
        await asyncio.to_thread(started.wait, 10)
        ticked.set()  # back on the loop: it runs only if the loop is free

    async with InferenceWorker(WaitingModel()) as worker:
        ticks = asyncio.create_task(ticker())
        answer = await worker.predict(_clip(500))
        await ticks
    assert ticked.is_set() and answer.shape == (4,)


async def test_a_note_is_admitted_whole_or_refused_whole(held):
    async with InferenceWorker(held, WorkerConfig(max_queue=4)) as worker:
        running = asyncio.create_task(worker.predict(_clip(500)))
        await held.wait_until_running()
        singles = [asyncio.create_task(worker.predict(_clip(600))) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Busy):
            await worker.predict_many([_clip(700)] * 3)
        assert worker.stats.queued == 2  # none of the refused note's windows stayed behind
        note = asyncio.create_task(worker.predict_many([_clip(800)] * 2))
        await asyncio.sleep(0)
        assert worker.stats.queued == 4
        held.gate.set()
        await asyncio.gather(running, *singles)
        assert (await note).shape == (2, 4)
    assert all(700 not in batch for batch in held.batches)


async def test_a_note_longer_than_the_queue_still_runs_on_an_idle_worker():
    async with InferenceWorker(RecordingModel(), WorkerConfig(max_queue=4)) as worker:
        rows = await worker.predict_many([_clip(800)] * 6)
    assert rows.shape == (6, 4)


async def test_a_cancelled_caller_is_skipped_and_does_not_stop_the_worker(held):
    async with InferenceWorker(held) as worker:
        running = asyncio.create_task(worker.predict(_clip(500)))
        await held.wait_until_running()
        gave_up = asyncio.create_task(worker.predict_many([_clip(700)] * 3))
        await asyncio.sleep(0)
        gave_up.cancel()
        held.gate.set()
        await running
        row = await worker.predict(_clip(900))
    assert gave_up.cancelled()
    assert row.shape == (4,)
    assert held.batches == [[500], [900]]

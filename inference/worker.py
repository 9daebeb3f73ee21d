"""The shared inference worker: one model per process, a bounded queue, equal-length batches.

Every adapter (Telegram, Discord, the CLI) awaits the same worker. Forward passes run one at a
time on one dedicated thread, so the event loop keeps serving while torch uses its own intra-op
threads. On CPU only clips of exactly equal length share a batch: a padded mixed batch is 2.7x
slower than one by one and changes the answer of group-norm models (see ARCHITECTURE.md).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol, cast

import numpy as np

from inference.baseline import SpeakerBaseline
from inference.errors import Busy, InferenceTimeout
from inference.models.base import SAMPLE_RATE, EmbeddingModel, EmotionModel

# What a request asks of the model: probabilities (every model) or pooled embeddings (models
# with an encoder and a separate head, so a per-speaker baseline can be applied to the vectors).
Task = Literal["predict", "embed"]


@dataclass(frozen=True)
class Rows:
    """A request's answer: one row per clip, and the model that produced every one of them."""

    values: np.ndarray
    model: EmotionModel


@dataclass(frozen=True)
class Heard:
    """A note heard against a speaker's usual voice: probabilities per window, the windows'
    embeddings (None when the model gives none), and the model that produced both."""

    rows: np.ndarray
    embeddings: np.ndarray | None
    model: EmotionModel


@dataclass(frozen=True)
class WorkerConfig:
    max_queue: int = 64  # clips waiting (a note's windows count one each); beyond it: Busy
    max_batch: int = 4  # equal-length clips per forward pass
    request_timeout_s: float = 120.0  # from admission to answer, queueing included


class SharedWorker(Protocol):
    """What the analyzer and the bots use of a worker: this module's in-process InferenceWorker,
    or inference.remote's RemoteWorker, which hands the same requests to `voicemood worker`s."""

    config: WorkerConfig

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> tuple[str, ...]: ...

    @property
    def running(self) -> bool: ...

    @property
    def embeds(self) -> bool: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def run_many(self, waveforms: Sequence[np.ndarray], task: Task = "predict") -> Rows: ...

    async def hear(
        self,
        waveforms: Sequence[np.ndarray],
        baseline: SpeakerBaseline | None = None,
        language: str | SpeakerBaseline | None = None,
    ) -> Heard: ...

    async def __aenter__(self) -> object: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@dataclass(frozen=True)
class WorkerStats:
    """Counts since start, in clips (a note's windows count one each)."""

    queued: int
    processed: int
    batches: int
    failed: int
    largest_batch: int


class InferenceWorker:
    """Classifies waveforms for many concurrent callers with one model instance."""

    def __init__(self, model: EmotionModel, config: WorkerConfig | None = None) -> None:
        # The model new requests are admitted to; `swap` replaces it between batches.
        self.model = model
        self.config = config or WorkerConfig()
        self._waiting: deque[_Clip] = deque()
        self._wakeup = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._processed = 0
        self._batches = 0
        self._failed = 0
        self._largest_batch = 0
        self._embedder: tuple[EmotionModel, bool] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return self.model.labels

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def running(self) -> bool:
        """True while the serving loop runs and new requests are admitted (for health checks)."""
        return self._task is not None and not self._task.done() and not self._closing

    @property
    def stats(self) -> WorkerStats:
        return WorkerStats(
            queued=len(self._waiting),
            processed=self._processed,
            batches=self._batches,
            failed=self._failed,
            largest_batch=self._largest_batch,
        )

    async def start(self) -> None:
        """Start the serving loop on the running event loop (predict starts it too if needed)."""
        if self._closing:
            raise RuntimeError("this InferenceWorker is closed; build a new one")
        if self._task is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
            self._task = asyncio.get_running_loop().create_task(self._serve(), name="inference")

    async def predict(self, waveform: np.ndarray) -> np.ndarray:
        """Probabilities over `labels` for one 16 kHz mono waveform; Busy at once when full."""
        rows = await self.predict_many([waveform])
        return rows[0]

    async def predict_many(self, waveforms: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities for all windows of one note (see `run_many`)."""
        return (await self.run_many(waveforms)).values

    @property
    def embeds(self) -> bool:
        """True when the current model can return embeddings (`run_many(..., task="embed")`)."""
        return self._embeds(self.model)

    def _embeds(self, model: EmotionModel) -> bool:
        """isinstance(model, EmbeddingModel), remembered for the model last asked about: a
        runtime Protocol's check costs ~30 us, and a note asked it up to four times."""
        known = self._embedder
        if known is None or known[0] is not model:
            known = self._embedder = (model, isinstance(model, EmbeddingModel))
        return known[1]

    async def hear(
        self,
        waveforms: Sequence[np.ndarray],
        baseline: SpeakerBaseline | None = None,
        language: str | SpeakerBaseline | None = None,
    ) -> Heard:
        """One note's windows heard against `baseline` (a speaker's usual voice, when it fits
        the model's embeddings) and the voices of its `language`, with the embeddings that
        update the baseline; a model that gives no embeddings answers its plain probabilities."""
        if not self.embeds:
            rows = await self.run_many(waveforms)
            return Heard(rows.values, None, rows.model)
        embedded = await self.run_many(waveforms, task="embed")
        model = cast(EmbeddingModel, embedded.model)  # run_many(task="embed") checked it
        usable = baseline if baseline is not None and baseline.dim == model.embedding_dim else None
        seconds = np.array([len(wave) / SAMPLE_RATE for wave in waveforms], np.float32)
        probs = model.classify(embedded.values, usable, seconds=seconds, language=language)
        return Heard(probs, embedded.values, model)

    def swap(self, model: EmotionModel) -> EmotionModel:
        """Serve new requests with `model`; requests already admitted finish on the old one.

        Returns the old model. Nothing waiting is dropped: each clip keeps the model it was
        admitted to, and batches never mix models, so one note's windows all hear one model.
        """
        old, self.model = self.model, model
        self._embedder = None  # not kept alive by the remembered check
        return old

    async def run_many(self, waveforms: Sequence[np.ndarray], task: Task = "predict") -> Rows:
        """Rows for all windows of one note, admitted all together or refused with Busy.

        A group larger than the whole queue is admitted only into an empty queue, so a long note
        can always run once the worker is idle, yet never runs half-way.
        """
        model = self.model
        if task == "embed":
            if not self._embeds(model):
                raise TypeError(f"model {model.name} gives no embeddings")
            width = cast(EmbeddingModel, model).embedding_dim
        else:
            width = len(model.labels)
        if len(waveforms) == 0:
            return Rows(np.zeros((0, width), np.float32), model)
        if self._closing:
            raise Busy("The mood reader is restarting; please send the note again in a minute.")
        await self.start()
        queued = len(self._waiting)
        if queued and queued + len(waveforms) > self.config.max_queue:
            raise Busy("Too many voice notes at once right now; please try again in a minute.")
        job = _Job(asyncio.get_running_loop().create_future(), len(waveforms), width)
        self._waiting.extend(
            _Clip(np.asarray(w), job, i, model, task) for i, w in enumerate(waveforms)
        )
        self._wakeup.set()
        try:
            async with asyncio.timeout(self.config.request_timeout_s):
                return Rows(await job.future, model)
        except TimeoutError:
            raise InferenceTimeout(
                "Reading the tone took too long; please try again later.",
                timeout_s=self.config.request_timeout_s,
            ) from None

    async def close(self) -> None:
        """Refuse new requests, answer every admitted one, then stop the loop and its thread."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> InferenceWorker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _serve(self) -> None:
        """Take the oldest waiting clip with its equal-length peers, run them, answer, repeat."""
        loop = asyncio.get_running_loop()
        while True:
            batch = self._next_batch()
            if not batch:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            self._batches += 1
            self._largest_batch = max(self._largest_batch, len(batch))
            try:
                rows = await loop.run_in_executor(
                    self._executor,
                    _run_checked,
                    batch[0].model,
                    batch[0].task,
                    [c.waveform for c in batch],
                )
            except Exception as error:  # the model's own failure goes to this batch's callers only
                self._failed += len(batch)
                for clip in batch:
                    clip.job.fail(error)
                continue
            self._processed += len(batch)
            for clip, row in zip(batch, rows, strict=True):
                clip.job.answer(clip.index, row)

    def _next_batch(self) -> list[_Clip]:
        """The oldest live clip plus up to max_batch - 1 waiting clips of exactly its length.

        Peers must also share its model and task: after a swap, old and new never share a pass.
        """
        while self._waiting and self._waiting[0].job.future.done():
            self._waiting.popleft()  # its caller gave up (cancelled, timed out) or already failed
        if not self._waiting:
            return []
        first = self._waiting.popleft()
        batch = [first]
        size = len(first.waveform)
        for clip in list(self._waiting):
            if len(batch) >= self.config.max_batch:
                break
            if (
                len(clip.waveform) == size
                and clip.model is first.model
                and clip.task == first.task
                and not clip.job.future.done()
            ):
                batch.append(clip)
                self._waiting.remove(clip)
        return batch


class _Job:
    """One caller's request: its future and the rows filled in as its clips are answered."""

    def __init__(self, future: asyncio.Future[np.ndarray], size: int, columns: int) -> None:
        self.future = future
        self.rows = np.zeros((size, columns), np.float32)
        self.remaining = size

    def answer(self, index: int, row: np.ndarray) -> None:
        if self.future.done():
            return
        self.rows[index] = row
        self.remaining -= 1
        if self.remaining == 0:
            self.future.set_result(self.rows)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


@dataclass(eq=False)
class _Clip:
    waveform: np.ndarray
    job: _Job
    index: int
    model: EmotionModel  # the model current when the request was admitted
    task: Task = "predict"


def _run_checked(model: EmotionModel, task: Task, batch: list[np.ndarray]) -> np.ndarray:
    """Run the model and insist on one row per clip, so a bad model fails loudly, not silently."""
    if task == "embed":  # admitted by run_many only for a model that embeds
        embedder = cast(EmbeddingModel, model)
        rows = np.asarray(embedder.embed(batch), np.float32)
        width = embedder.embedding_dim
    else:
        rows = np.asarray(model.predict(batch), np.float32)
        width = len(model.labels)
    if rows.shape != (len(batch), width):
        raise RuntimeError(
            f"model {model.name} returned shape {rows.shape} for {len(batch)} clips "
            f"and {width} columns"
        )
    return rows

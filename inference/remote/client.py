"""RemoteWorker: the in-process worker's interface, served by `voicemood worker` processes.

`voicemood run` with VOICEMOOD_REDIS_URL set builds this instead of an InferenceWorker, so the
analyzer and the bots do not change. A request is admitted into the shared stream only while its
backlog is under the bound (else Busy at once, as in process); the answer comes back on this
replica's own reply stream, read by one task, and resolves the request's future once (a note
processed twice by two workers is answered once). A request not answered in time raises the
usual InferenceTimeout. When Redis restarts with its data lost (its run_id changes), the notes
it held are gone, so their senders are told at once to send them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from inference.baseline import SpeakerBaseline
from inference.errors import Busy, InferenceTimeout
from inference.remote.protocol import ADMIT, AUDIO_GRACE_S, Heartbeat, Keys, Reply, Request
from inference.worker import Heard, Rows, Task, WorkerConfig

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

RESTARTING = "The mood reader is restarting; please send the note again in a minute."
TOO_MANY = "Too many voice notes at once right now; please try again in a minute."
# Notes being handed to Redis at once by one replica. redis-py's pool holds at most 100
# connections and refuses the next at once ("Too many connections"): a burst of 100 notes on one
# replica was told the mood reader was restarting. The rest wait their turn, up to SEND_WAIT_S.
SENDING_AT_ONCE = 32
SEND_WAIT_S = 5.0
TRIM_EVERY_S = 1.0  # replies already read leave the reply stream at most this often


@dataclass
class RemoteModel:
    """The model a remote worker answered with, as the analyzer sees it: a name and labels."""

    name: str
    labels: tuple[str, ...]

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        raise RuntimeError(f"{self.name} runs in a `voicemood worker` process, not here")


@dataclass(frozen=True)
class RemoteConfig:
    url: str
    prefix: str = "voicemood"
    max_backlog: int = 64  # notes waiting in the stream (all replicas together); beyond: Busy
    request_timeout_s: float = 120.0
    refresh_s: float = 2.0  # how often the workers' heartbeats are read


class RemoteWorker:
    """Sends notes to `voicemood worker` processes through a Redis stream and awaits answers."""

    def __init__(self, config: RemoteConfig) -> None:
        self.remote = config
        # Read by callers that size their own bursts (the queue bound is the stream's backlog).
        self.config = WorkerConfig(
            max_queue=config.max_backlog, request_timeout_s=config.request_timeout_s
        )
        self.keys = Keys(config.prefix)
        self.client_id = uuid.uuid4().hex[:16]
        self._redis: Redis | None = None
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._stop = asyncio.Event()
        self._run_id: str | None = None
        self._checked = 0.0  # when the run_id was last read (monotonic seconds)
        self._model: RemoteModel | None = None
        self.workers: list[Heartbeat] = []  # live workers, as last read
        self._sending = asyncio.Semaphore(SENDING_AT_ONCE)

    @property
    def name(self) -> str:
        """The model the workers serve (the last answer's, else a heartbeat's)."""
        if self._model is not None:
            return self._model.name
        # Before the first answer: what a live worker says it serves (a speaker's baseline is
        # kept per model, so the first note after a restart is heard against it too).
        return self.workers[0].model if self.workers else "remote"

    @property
    def labels(self) -> tuple[str, ...]:
        return self._model.labels if self._model is not None else ()

    @property
    def embeds(self) -> bool:
        # A note is sent with the speaker's baseline and heard against it by the worker, whose
        # model holds the head (`hear`); a worker whose model gives no embeddings ignores it.
        return True

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._closing

    @property
    def models(self) -> set[str]:
        """The model versions the live workers serve (two during a rolling upgrade)."""
        return {w.model for w in self.workers}

    async def start(self) -> None:
        if self._closing:
            raise RuntimeError("this RemoteWorker is closed; build a new one")
        if self._tasks:
            return
        from redis.asyncio import Redis

        # A blocking read waits 1 s, so 5 s of silence on a socket means the server is gone.
        self._redis = Redis.from_url(
            self.remote.url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=10
        )
        self._admit = self._redis.register_script(ADMIT)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read_replies(), name="remote-replies"),
            loop.create_task(self._watch_workers(), name="remote-workers"),
        ]

    async def run_many(self, waveforms: Sequence[np.ndarray], task: Task = "predict") -> Rows:
        """Rows for all windows of one note, from whichever worker takes it; Busy when full."""
        if task != "predict":
            raise TypeError("remote workers answer with probabilities (or `hear`) only")
        if len(waveforms) == 0:
            model = self._model or RemoteModel(self.name, self.labels)
            return Rows(np.zeros((0, len(model.labels)), np.float32), model)
        reply = await self._ask(waveforms, "predict", None)
        return self._rows(reply, len(waveforms))

    async def hear(
        self,
        waveforms: Sequence[np.ndarray],
        baseline: SpeakerBaseline | None = None,
        language: str | SpeakerBaseline | None = None,
    ) -> Heard:
        """A note heard by a worker against the speaker's usual voice and its language's voices,
        sent with it; the windows' embeddings come back to update the baseline (None from a
        model that gives none)."""
        if len(waveforms) == 0:
            model = self._model or RemoteModel(self.name, self.labels)
            return Heard(np.zeros((0, len(model.labels)), np.float32), None, model)
        # A language travels by its code, or as its running statistics (count, mean, M2).
        reply = await self._ask(waveforms, "hear", baseline, language)
        rows = self._rows(reply, len(waveforms))
        embeddings = reply.embeddings
        if embeddings is not None and embeddings.shape[0] != len(waveforms):
            raise RuntimeError(
                f"a remote worker embedded {embeddings.shape[0]} of {len(waveforms)} clips"
            )
        return Heard(rows.values, embeddings, rows.model)

    async def _ask(
        self,
        waveforms: Sequence[np.ndarray],
        task: str,
        baseline: SpeakerBaseline | None,
        language: str | SpeakerBaseline | None = None,
    ) -> Reply:
        """Queue one note for the workers and wait for its reply; Busy when the backlog is full."""
        if self._closing:
            raise Busy(RESTARTING)
        await self.start()
        assert self._redis is not None
        request = Request(
            id=uuid.uuid4().hex,
            task=task,
            reply_to=self.keys.replies(self.client_id),
            deadline=time.time() + self.remote.request_timeout_s,
            waveforms=[np.asarray(w, np.float32) for w in waveforms],
            baseline=baseline,
            language=language,
        )
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[request.id] = future
        try:
            fields = request.fields()
            args = [self.remote.max_backlog, *(x for pair in fields.items() for x in pair)]
            audio = self.keys.audio(request.id)
            keep_ms = int((self.remote.request_timeout_s + AUDIO_GRACE_S) * 1000)
            try:
                async with asyncio.timeout(SEND_WAIT_S):
                    await self._sending.acquire()
            except TimeoutError:
                raise Busy(TOO_MANY) from None
            try:
                admitted = await self._queue(audio, request.audio(), keep_ms, args)
            except Exception as error:  # Redis unreachable or restarting: a polite "busy"
                log.warning("could not queue a note in Redis: %s", error)
                raise Busy(RESTARTING) from None
            finally:
                self._sending.release()
            if admitted is None:
                raise Busy(TOO_MANY)
            try:
                async with asyncio.timeout(self.remote.request_timeout_s):
                    reply = await future
            except TimeoutError:
                raise InferenceTimeout(
                    "Reading the tone took too long; please try again later.",
                    timeout_s=self.remote.request_timeout_s,
                ) from None
        finally:
            self._pending.pop(request.id, None)
        return reply

    async def _queue(self, audio: str, pcm: bytes, keep_ms: int, args: list[Any]) -> Any:
        """The note's audio set, then its entry admitted (or refused: None), in one trip: a trip
        costs both sides more CPU than its bytes (bench/scale.py --simulate, docs/scale.md).

        The audio first, so a worker that takes the entry finds it (protocol.py). The script is
        sent by its hash, not through redis-py's registered script, whose pipelines ask Redis
        whether it exists every time: that would be the trip saved. A Redis that lost its
        scripts (restarted) gets it loaded by the registered script's own call.
        """
        from redis.exceptions import NoScriptError

        assert self._redis is not None
        keys = [self.keys.notes, audio]
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(audio, pcm, px=keep_ms)
        pipe.evalsha(self._admit.sha, len(keys), *keys, *args)
        stored, admitted = await pipe.execute(raise_on_error=False)
        if isinstance(stored, Exception):
            raise stored
        if isinstance(admitted, NoScriptError):
            return await self._admit(keys=keys, args=args)
        if isinstance(admitted, Exception):
            raise admitted
        return admitted

    def _rows(self, reply: Reply, clips: int) -> Rows:
        if reply.status == "busy":
            raise Busy(TOO_MANY)
        if reply.status != "ok" or reply.rows is None:
            raise RuntimeError(f"a remote worker failed on this note: {reply.message}")
        if reply.rows.shape != (clips, len(reply.labels)):
            raise RuntimeError(f"a remote worker answered {reply.rows.shape} for {clips} clips")
        model = self._model
        if model is None or model.name != reply.model or model.labels != reply.labels:
            model = self._model = RemoteModel(reply.model, reply.labels)
        return Rows(reply.rows, model)

    async def close(self) -> None:
        """Refuse new notes, wait for the ones asked (each ends by its timeout), then disconnect."""
        self._closing = True
        waiting = [f for f in self._pending.values() if not f.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=self.remote.request_timeout_s)
        # The loops end by themselves within a blocking read's second: cancelling one inside a
        # blocking XREAD left redis-py 8.1 waiting forever on its connection.
        self._stop.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.delete(self.keys.replies(self.client_id))
            await self._redis.aclose()

    async def __aenter__(self) -> RemoteWorker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _read_replies(self) -> None:
        """Resolve each request's future from this replica's reply stream; ignore duplicates."""
        assert self._redis is not None
        stream = self.keys.replies(self.client_id)
        last = "0-0"
        down = False
        trimmed = time.monotonic()
        while not self._stop.is_set():
            try:
                await self._check_server()
                found: Any = await self._redis.xread({stream: last}, count=100, block=1000)
                if down:
                    log.info("Redis is reachable again")
                    down = False
            except Exception as error:
                if not down:
                    log.warning("Redis unreachable (%s); retrying", error)
                    down = True
                self._checked = 0.0  # back again: ask at once whether it is the same server
                await _nap(self._stop, 0.5)
                continue
            for _stream, entries in found or []:
                for entry_id, fields in entries:
                    last = entry_id.decode()
                    try:
                        reply = Reply.parse(fields)
                    except Exception:
                        log.warning("ignored an unreadable reply %s", last, exc_info=True)
                        continue
                    future = self._pending.get(reply.request_id)
                    if future is not None and not future.done():
                        future.set_result(reply)
            if found and time.monotonic() - trimmed >= TRIM_EVERY_S:
                # Replies read are replies delivered: keep the stream short. Not after every
                # read: under load that was one more command per note for the bot and Redis.
                trimmed = time.monotonic()
                with contextlib.suppress(Exception):
                    await self._redis.xtrim(stream, minid=last)

    async def _check_server(self) -> None:
        """Notice a Redis restart (a new run_id): the notes waiting in it may be lost."""
        assert self._redis is not None
        now = time.monotonic()
        if self._run_id is not None and now - self._checked < 1.0:
            return  # once a second is enough; a lost connection is noticed by the read itself
        self._checked = now
        info = await self._redis.info("server")
        run_id = str(info.get("run_id"))
        if self._run_id is not None and run_id != self._run_id:
            log.warning("Redis restarted; %d notes in flight are asked again", len(self._pending))
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(Busy(RESTARTING))
        self._run_id = run_id

    async def _watch_workers(self) -> None:
        """Read the workers' heartbeats, for the model name before the first answer and health."""
        assert self._redis is not None
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.workers = await read_heartbeats(self._redis, self.keys)
                if self._model is None and self.workers:
                    first = self.workers[0]
                    self._model = RemoteModel(first.model, first.labels)
            await _nap(self._stop, self.remote.refresh_s)


async def _nap(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def read_heartbeats(redis: Redis, keys: Keys) -> list[Heartbeat]:
    """Every live worker's heartbeat (their keys expire unless renewed), by worker id."""
    # The scan walks every key (each note's audio and done-marker too), 1,000 a trip rather
    # than 100; the heartbeats it finds are read in one MGET, not one GET each.
    names = [key async for key in redis.scan_iter(match=keys.heartbeats, count=1000)]
    texts: list[Any] = await redis.mget(names) if names else []
    found = []
    for text in texts:
        if text is None:
            continue  # expired between the scan and the read
        with contextlib.suppress(ValueError, KeyError):
            found.append(Heartbeat.from_json(text))
    return sorted(found, key=lambda w: w.worker_id)

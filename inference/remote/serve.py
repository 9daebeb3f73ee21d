"""The loop of one `voicemood worker` process: take notes from the stream, answer, acknowledge.

Notes are read through the consumer group and handed to an ordinary InferenceWorker, so they are
batched exactly as in process (equal lengths only). The reply is written and the entry
acknowledged in one script, after the rows exist (the scripts of notes answered together go in
one pipeline): a worker killed mid-note leaves its entries pending, and any worker claims entries
idle longer than `claim_after_s` (XAUTOCLAIM). A live worker keeps its own slow notes from being
claimed by touching them every heartbeat. A note processed twice is answered once (a done-marker
per request). A note's audio waits in a key of its own (protocol.py), read beside its entry (one
MGET per read) and deleted with its answer; a note whose audio is gone is answered with an error
at once. When Redis restarts, the worker retries until it is back and creates the group again if
the data was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inference.errors import Busy
from inference.remote.protocol import (
    GROUP,
    REPLY,
    REPLY_MAXLEN,
    REPLY_TTL_S,
    Heartbeat,
    Keys,
    MissingAudio,
    Reply,
    Request,
)
from inference.worker import InferenceWorker

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeConfig:
    prefix: str = "voicemood"
    notes_at_once: int = 8  # notes taken from the stream and not yet answered, at most
    claim_after_s: float = 30.0  # a note pending this long with no sign of life is claimed
    heartbeat_s: float = 2.0  # the heartbeat key lives three times this
    worker_id: str = ""  # unset: host-pid-random


class StreamServer:
    """Serves the stream's notes with `worker` until `stop` is set; then drains what it took."""

    def __init__(self, redis: Redis, worker: InferenceWorker, config: ServeConfig) -> None:
        self.redis, self.worker, self.config = redis, worker, config
        self.keys = Keys(config.prefix)
        self.worker_id = config.worker_id or (
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self._reply = redis.register_script(REPLY)
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._room = asyncio.Event()
        # Replies waiting to go back in one pipeline (_reply_together), and the task sending them.
        self._outbox: list[tuple[list[str], list[bytes | str | int], asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._processed = 0
        self._started = time.time()

    async def serve(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        helpers = [
            loop.create_task(self._claim_loop(stop), name="claim"),
            loop.create_task(self._heartbeat_loop(stop), name="heartbeat"),
        ]
        log.info("worker %s serving %s from %s", self.worker_id, self.worker.name, self.keys.notes)
        try:
            await self._read_loop(stop)
            if self._in_flight:
                await asyncio.wait(list(self._in_flight.values()))
        finally:
            # Not cancelled: cancelling redis-py 8.1 inside a command can leave it hanging.
            stop.set()
            await asyncio.wait(helpers, timeout=10)
            with contextlib.suppress(Exception):
                await self.redis.delete(self.keys.heartbeat(self.worker_id))

    @property
    def room(self) -> int:
        return self.config.notes_at_once - len(self._in_flight)

    async def _read_loop(self, stop: asyncio.Event) -> None:
        """New entries for this consumer, as many as there is room for, until stopped.

        A busy worker reads again once half its room is free, not at every answer: the notes it
        still holds keep its model busy meanwhile, each read (XREADGROUP and MGET) brings several
        notes instead of one, and an idle worker elsewhere may take the next note first.
        """
        refill = max(1, self.config.notes_at_once // 2)
        while not stop.is_set():
            try:
                await self._ensure_group()
                break
            except Exception as error:
                log.warning("Redis unreachable (%s); retrying", error)
                await asyncio.sleep(0.5)
        while not stop.is_set():
            if self.room < refill:
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):  # and see `stop` twice a second
                        await self._room.wait()
                continue
            try:
                found: Any = await self.redis.xreadgroup(
                    GROUP,
                    self.worker_id,
                    {self.keys.notes: ">"},
                    count=self.room,
                    block=500,
                )
            except Exception as error:
                if not await self._recover(error):
                    await asyncio.sleep(0.5)
                continue
            taken = [entry for _stream, entries in found or [] for entry in entries]
            if taken and not await self._take_all(taken):
                await asyncio.sleep(0.5)

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        """Claim entries another (dead) worker took and left idle past `claim_after_s`."""
        idle_ms = int(self.config.claim_after_s * 1000)
        while not stop.is_set():
            await _nap(stop, max(0.2, self.config.claim_after_s / 4))
            if stop.is_set():
                return
            if self.room <= 0:
                continue
            try:
                result: Any = await self.redis.xautoclaim(
                    self.keys.notes, GROUP, self.worker_id, idle_ms, "0-0", count=self.room
                )
            except Exception as error:
                await self._recover(error)
                continue
            # Deleted entries come back empty: already answered.
            claimed = [(entry_id, fields) for entry_id, fields in result[1] if fields]
            for entry_id, _fields in claimed:
                log.info("claimed note %s left by another worker", entry_id.decode())
            if claimed:
                await self._take_all(claimed)

    async def _heartbeat_loop(self, stop: asyncio.Event) -> None:
        """Say this worker is alive (and what it serves); touch its own notes so none is claimed."""
        ttl_ms = int(self.config.heartbeat_s * 3000)
        while not stop.is_set():
            beat = Heartbeat(
                worker_id=self.worker_id,
                model=self.worker.name,
                labels=self.worker.labels,
                host=socket.gethostname(),
                pid=os.getpid(),
                in_flight=len(self._in_flight),
                processed=self._processed,
                started=self._started,
            )
            try:
                await self.redis.set(self.keys.heartbeat(self.worker_id), beat.to_json(), px=ttl_ms)
                if self._in_flight:
                    # Resets their idle time: a slow note is not a dead worker's note.
                    await self.redis.xclaim(
                        self.keys.notes,
                        GROUP,
                        self.worker_id,
                        0,
                        list(self._in_flight),
                        justid=True,
                    )
            except Exception as error:
                log.debug("heartbeat failed: %s", error)
            await _nap(stop, self.config.heartbeat_s)

    async def _take_all(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> bool:
        """Start answering `entries`, their audio read in one MGET; False when Redis failed
        (the entries stay pending, for this worker or another to claim)."""
        ids = [fields.get(b"id", b"").decode() for _entry_id, fields in entries]
        try:
            audio: list[Any] = await self.redis.mget([self.keys.audio(i) for i in ids])
        except Exception as error:
            await self._recover(error)
            return False
        for (entry_id, fields), pcm in zip(entries, audio, strict=True):
            self._take(entry_id.decode(), fields, pcm)
        return True

    def _take(self, entry_id: str, fields: dict[bytes, bytes], audio: bytes | None) -> None:
        if entry_id in self._in_flight:
            return  # already working on it (claimed back from ourselves)
        task = asyncio.get_running_loop().create_task(self._answer(entry_id, fields, audio))
        self._in_flight[entry_id] = task
        task.add_done_callback(lambda _: self._done(entry_id))

    def _done(self, entry_id: str) -> None:
        self._in_flight.pop(entry_id, None)
        self._room.set()

    async def _answer(self, entry_id: str, fields: dict[bytes, bytes], audio: bytes | None) -> None:
        try:
            request = Request.parse(fields, audio)
        except MissingAudio as error:
            await self._answer_without_audio(entry_id, fields, error)
            return
        except Exception:
            log.warning("dropped unreadable note %s", entry_id, exc_info=True)
            await self._forget(entry_id, fields)
            return
        if time.time() > request.deadline:
            await self._forget(entry_id, fields)  # its sender has stopped waiting
            return
        try:
            if request.task == "hear":
                # Heard against the speaker's usual voice, sent with the note; the embeddings
                # go back so the bot can update it (the worker keeps nothing of the person).
                heard = await self.worker.hear(
                    request.waveforms, request.baseline, request.language
                )
                reply = Reply(
                    request.id,
                    "ok",
                    heard.model.name,
                    heard.model.labels,
                    heard.rows,
                    embeddings=heard.embeddings,
                )
            else:
                rows = await self.worker.run_many(request.waveforms)
                model = rows.model
                reply = Reply(request.id, "ok", model.name, model.labels, rows.values)
        except Busy as error:
            reply = Reply(request.id, "busy", self.worker.name, message=str(error))
        except Exception as error:
            log.exception("note %s failed", entry_id)
            reply = Reply(request.id, "error", self.worker.name, message=str(error))
        await self._send(entry_id, request, reply)

    async def _send(self, entry_id: str, request: Request, reply: Reply) -> None:
        """Write the reply and acknowledge, retrying while Redis is away and the sender waits."""
        fields = reply.fields()
        args: list[bytes | str | int] = [GROUP, entry_id, REPLY_TTL_S, REPLY_MAXLEN]
        args += [x for pair in fields.items() for x in pair]
        keys = [
            self.keys.done(request.id),
            request.reply_to,
            self.keys.notes,
            self.keys.audio(request.id),
        ]
        while True:
            try:
                first = await self._reply_together(keys, args)
            except Exception as error:
                if time.time() > request.deadline:
                    log.warning("gave up answering note %s: %s", entry_id, error)
                    return
                await asyncio.sleep(0.3)
                continue
            if first:
                self._processed += 1
            else:
                log.info("note %s was already answered by another worker", entry_id)
            return

    async def _reply_together(self, keys: list[str], args: list[bytes | str | int]) -> Any:
        """The reply script for one note, sent with those of the notes answered at the same time
        (a batch's answers resume together) in one pipeline: one trip, not one per note.

        Each script is still atomic on its own; a worker dying mid-pipeline leaves the notes
        whose scripts did not run pending, claimed later and answered once (the done-marker).
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._outbox.append((keys, args, future))
        if len(self._outbox) == 1:  # the first of this turn's answers sends them all, next turn
            task = asyncio.get_running_loop().create_task(self._send_outbox())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return await future

    async def _send_outbox(self) -> None:
        from redis.exceptions import NoScriptError

        waiting, self._outbox = self._outbox, []
        # By its hash: a pipeline of redis-py's registered script asks Redis whether the
        # script exists first, every time (the trip saved). A Redis that lost its scripts
        # (restarted) gets it loaded by the registered script's own call, note by note.
        pipe = self.redis.pipeline(transaction=False)
        for keys, args, _future in waiting:
            pipe.evalsha(self._reply.sha, len(keys), *keys, *args)
        try:
            results = await pipe.execute(raise_on_error=False)
        except Exception as error:
            for _keys, _args, future in waiting:
                if not future.done():
                    future.set_exception(error)
            return
        for (keys, args, future), result in zip(waiting, results, strict=True):
            if isinstance(result, NoScriptError):
                try:
                    result = await self._reply(keys=keys, args=args)
                except Exception as error:
                    result = error
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _answer_without_audio(
        self, entry_id: str, fields: dict[bytes, bytes], error: MissingAudio
    ) -> None:
        """An error answer, so the sender is told at once instead of waiting out the deadline."""
        try:
            request = Request(
                id=fields[b"id"].decode(),
                task=fields[b"task"].decode(),
                reply_to=fields[b"reply_to"].decode(),
                deadline=float(fields[b"deadline"]),
                waveforms=[],
            )
        except Exception:
            log.warning("dropped unreadable note %s", entry_id, exc_info=True)
            await self._forget(entry_id, fields)
            return
        log.warning("note %s: %s", entry_id, error)
        await self._send(entry_id, request, Reply(request.id, "error", message=str(error)))

    async def _forget(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        with contextlib.suppress(Exception):
            await self.redis.xack(self.keys.notes, GROUP, entry_id)
            await self.redis.xdel(self.keys.notes, entry_id)
            if b"id" in fields:
                await self.redis.delete(self.keys.audio(fields[b"id"].decode()))

    async def _ensure_group(self) -> None:
        """Create the group (and the stream) if missing; from id 0, so waiting notes count."""
        from redis.exceptions import ResponseError

        try:
            await self.redis.xgroup_create(self.keys.notes, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _recover(self, error: Exception) -> bool:
        """After a failed command: True when the group was recreated (Redis lost its data)."""
        if "NOGROUP" in str(error):
            log.warning("the consumer group is gone (Redis lost its data?); creating it again")
            with contextlib.suppress(Exception):
                await self._ensure_group()
                return True
            return False
        log.warning("Redis unreachable (%s); retrying", error)
        return False


async def _nap(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

"""The wire format between the bot (client) and `voicemood worker` processes, and the keys.

A request is one stream entry in `<prefix>:notes`: its id, task, the client's reply stream, a
deadline (Unix seconds) and the lengths of the note's windows; the windows themselves, 16 kHz
float32 PCM concatenated, wait beside it in a string key of their own (`<prefix>:audio:<id>`,
written just before the entry, deleted with the answer, expiring after the deadline). Passed
through the admission script's arguments, 5 s of PCM cost Redis 0.85 ms of CPU a note (most of
its work); beside the entry 0.45 ms (`bench/scale.py --simulate`, 8 workers, redis-server 7).
Workers read both, so upgrade them before the bot replicas. A reply is one entry in the client's
own stream `<prefix>:replies:<client id>`. Two Lua scripts make the steps that must not be split atomic: admitting a request only while the
backlog is under its bound, and writing a reply once (a done-key per request) together with the
acknowledgement, so a note processed twice is still answered once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from inference.baseline import SpeakerBaseline

GROUP = "workers"
REPLY_TTL_S = 600  # a reply stream, a done-marker: gone this long after their last use
REPLY_MAXLEN = 10_000  # a reply stream whose client died stops growing here

Status = Literal["ok", "busy", "error"]

# KEYS[1] stream, KEYS[2] the note's audio (set just before); ARGV[1] backlog bound (entries),
# ARGV[2..] field/value pairs. The stream holds only notes not yet answered (workers delete what
# they acknowledge), so its length is the backlog, counted the same way by every bot replica.
# A note refused takes its audio with it.
ADMIT = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[2])
  return false
end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
"""

# KEYS[1] done-marker, KEYS[2] reply stream, KEYS[3] notes stream, KEYS[4] the note's audio;
# ARGV[1] group, ARGV[2] entry id, ARGV[3] ttl, ARGV[4] reply maxlen, ARGV[5..] reply fields.
REPLY = """
local first = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3])
if first then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 5))
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[4])
if first then return 1 end
return 0
"""
AUDIO_GRACE_S = 60  # a note's audio outlives its deadline this long (clocks of other machines)


@dataclass(frozen=True)
class Keys:
    """Every key one deployment uses, under one prefix (VOICEMOOD_REDIS_PREFIX)."""

    prefix: str = "voicemood"

    @property
    def notes(self) -> str:
        return f"{self.prefix}:notes"

    def replies(self, client_id: str) -> str:
        return f"{self.prefix}:replies:{client_id}"

    def done(self, request_id: str) -> str:
        return f"{self.prefix}:done:{request_id}"

    def audio(self, request_id: str) -> str:
        """Where a request's PCM waits while its entry is in the stream."""
        return f"{self.prefix}:audio:{request_id}"

    def heartbeat(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}"

    @property
    def heartbeats(self) -> str:
        """The SCAN pattern of every worker's heartbeat key (the prefix's own glob characters,
        such as a test's "[param]", are escaped, or they would match other keys or none)."""
        escaped = "".join("\\" + c if c in "\\*?[]" else c for c in self.prefix)
        return f"{escaped}:worker:*"


@dataclass(frozen=True)
class Request:
    id: str
    task: str
    reply_to: str
    deadline: float  # Unix seconds; a worker drops a request it takes after this
    waveforms: list[np.ndarray]
    # task "hear": the speaker's usual voice (their baseline's count, mean and M2), or None.
    baseline: SpeakerBaseline | None = None
    # task "hear": the note's language, whose voices the worker's head hears it against: a
    # code whose statistics ship with the head, or running statistics of the language's notes.
    language: str | SpeakerBaseline | None = None

    def audio(self) -> bytes:
        """The windows' PCM, concatenated: the value of the request's audio key."""
        return b"".join(np.ascontiguousarray(w, "<f4").tobytes() for w in self.waveforms)

    def fields(self) -> dict[str, bytes | str]:
        """The stream entry: everything but the PCM (see `audio`)."""
        lengths = ",".join(str(len(w)) for w in self.waveforms)
        fields: dict[str, bytes | str] = {
            "id": self.id,
            "task": self.task,
            "reply_to": self.reply_to,
            "deadline": repr(self.deadline),
            "lengths": lengths,
        }
        if self.baseline is not None:
            fields["b_count"] = str(self.baseline.count)
            fields["b_mean"] = np.ascontiguousarray(self.baseline.mean, "<f4").tobytes()
            fields["b_m2"] = np.ascontiguousarray(self.baseline.m2, "<f4").tobytes()
        if isinstance(self.language, SpeakerBaseline):
            fields["l_count"] = str(self.language.count)
            fields["l_mean"] = np.ascontiguousarray(self.language.mean, "<f4").tobytes()
            fields["l_m2"] = np.ascontiguousarray(self.language.m2, "<f4").tobytes()
            if self.language.language:  # whose they are, so the head knows a stranger language
                fields["lang"] = self.language.language
        elif self.language:
            fields["lang"] = self.language
        return fields

    @classmethod
    def parse(cls, fields: dict[bytes, bytes], audio: bytes | None = None) -> Request:
        """The request from its entry and the value of its audio key (an entry written before
        the audio had a key of its own carries it as its field "pcm")."""
        lengths = [int(n) for n in fields[b"lengths"].decode().split(",") if n]
        audio = fields.get(b"pcm", audio)
        if audio is None:
            raise MissingAudio("the note's audio is no longer in Redis (expired or evicted)")
        pcm = np.frombuffer(audio, "<f4")
        if sum(lengths) != len(pcm):
            raise ValueError(f"request carries {len(pcm)} samples, its lengths say {sum(lengths)}")
        bounds = np.cumsum([0, *lengths])
        baseline = _statistics(fields, b"b_")
        stats = _statistics(fields, b"l_")
        code = fields[b"lang"].decode() if b"lang" in fields else ""
        language: str | SpeakerBaseline | None = stats or code or None
        if stats is not None and code:
            language = replace(stats, language=code)
        return cls(
            id=fields[b"id"].decode(),
            task=fields[b"task"].decode(),
            reply_to=fields[b"reply_to"].decode(),
            deadline=float(fields[b"deadline"]),
            waveforms=[
                pcm[a:b].astype(np.float32) for a, b in zip(bounds, bounds[1:], strict=False)
            ],
            baseline=baseline,
            language=language,
        )


class MissingAudio(ValueError):
    """A request whose PCM is gone from Redis: it cannot be heard, only answered with an error."""


@dataclass(frozen=True)
class Reply:
    request_id: str
    status: Status
    model: str = ""
    labels: tuple[str, ...] = ()
    rows: np.ndarray | None = None
    message: str = ""  # an error's text, for the bot's log (never shown to users as is)
    # task "hear" on a model that embeds: each window's embedding (to update the baseline).
    embeddings: np.ndarray | None = None

    def fields(self) -> dict[str, bytes | str]:
        fields: dict[str, bytes | str] = {
            "id": self.request_id,
            "status": self.status,
            "model": self.model,
            "labels": json.dumps(list(self.labels)),
            "message": self.message,
        }
        if self.rows is not None:
            rows = np.ascontiguousarray(self.rows, "<f4")
            fields["shape"] = f"{rows.shape[0]},{rows.shape[1]}"
            fields["rows"] = rows.tobytes()
        if self.embeddings is not None:
            embedded = np.ascontiguousarray(self.embeddings, "<f4")
            fields["e_shape"] = f"{embedded.shape[0]},{embedded.shape[1]}"
            fields["embeddings"] = embedded.tobytes()
        return fields

    @classmethod
    def parse(cls, fields: dict[bytes, bytes]) -> Reply:
        rows = _matrix(fields, b"rows", b"shape")
        embeddings = _matrix(fields, b"embeddings", b"e_shape")
        status = fields[b"status"].decode()
        if status not in ("ok", "busy", "error"):
            raise ValueError(f"unknown reply status {status!r}")
        return cls(
            request_id=fields[b"id"].decode(),
            status=status,  # type: ignore[arg-type]
            model=fields.get(b"model", b"").decode(),
            labels=tuple(json.loads(fields.get(b"labels", b"[]"))),
            rows=rows,
            message=fields.get(b"message", b"").decode(),
            embeddings=embeddings,
        )


def _matrix(fields: dict[bytes, bytes], data: bytes, shape: bytes) -> np.ndarray | None:
    if data not in fields:
        return None
    height, width = (int(n) for n in fields[shape].decode().split(","))
    return np.frombuffer(fields[data], "<f4").reshape(height, width).copy()


@dataclass(frozen=True)
class Heartbeat:
    """What a live worker says about itself, under a key that expires unless renewed."""

    worker_id: str
    model: str
    labels: tuple[str, ...]
    host: str
    pid: int
    in_flight: int  # notes taken and not yet answered
    processed: int  # notes answered since start
    started: float  # Unix seconds

    def to_json(self) -> str:
        return json.dumps(
            {
                "worker_id": self.worker_id,
                "model": self.model,
                "labels": list(self.labels),
                "host": self.host,
                "pid": self.pid,
                "in_flight": self.in_flight,
                "processed": self.processed,
                "started": self.started,
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Heartbeat:
        data = json.loads(text)
        return cls(
            worker_id=str(data["worker_id"]),
            model=str(data["model"]),
            labels=tuple(data["labels"]),
            host=str(data["host"]),
            pid=int(data["pid"]),
            in_flight=int(data["in_flight"]),
            processed=int(data["processed"]),
            started=float(data["started"]),
        )


def _statistics(fields: dict[bytes, bytes], prefix: bytes) -> SpeakerBaseline | None:
    """Running statistics (count, mean, M2) sent under `prefix`, or None when none were sent."""
    if prefix + b"count" not in fields:
        return None
    mean = np.frombuffer(fields[prefix + b"mean"], "<f4").copy()
    m2 = np.frombuffer(fields[prefix + b"m2"], "<f4").copy()
    if mean.shape != m2.shape:
        raise ValueError("a baseline's mean and M2 differ in width")
    return SpeakerBaseline(int(fields[prefix + b"count"]), mean, m2)

"""Decode any voice note or audio file to 16 kHz mono float32, within limits, in a child ffmpeg.

ffmpeg reads every format people send (Opus voice notes, mp3, m4a, wav, flac, webm, mp4 video
notes). It comes from the system when present, else from imageio-ffmpeg, which ships a static
binary so `pip install` alone is enough. The design card names pydub, but pydub's `from_file`
asks ffprobe for stream info (imageio-ffmpeg ships no ffprobe) and appends its own parameters
after the output name, so decoding runs ffmpeg directly; `configure_pydub` points pydub at the
same binary for the code that encodes with it. Running ffmpeg as a child process isolates a
hostile file (at worst it crashes the child) and lets a time limit kill it.

Bytes reach ffmpeg as a seekable in-memory file (memfd), not through a pipe: from a pipe, an
mp4/m4a whose index sits at the end (ffmpeg's own default) fails to decode ("partial file"), and
mp3 keeps its encoder padding.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.audio import DEFAULT_MAX_BYTES, megabytes
from inference.errors import (
    EmptyAudio,
    NoAudioStream,
    SilentAudio,
    TooLarge,
    TooLong,
    TooShort,
    UndecodableAudio,
)
from inference.models.base import SAMPLE_RATE

# Below either level nothing a person said can be heard: -50 dBFS peak, -60 dBFS RMS.
SILENT_PEAK = 10 ** (-50 / 20)
SILENT_RMS = 10 ** (-60 / 20)

# Only plain audio/video containers: a playlist (HLS) or concat list sent as a file would
# otherwise make ffmpeg open other local files or URLs; images and the like are not audio.
_DEMUXERS = (
    "ogg,matroska,webm,mov,mp4,m4a,3gp,mp3,wav,w64,flac,aac,amr,aiff,caf,asf,avi,flv,mpegts,mpeg"
)
_FORMATS = "ogg, mp3, m4a, wav, flac"


class FFmpegNotFound(RuntimeError):
    """No ffmpeg binary: an installation problem for the operator, not the user's fault."""


@dataclass(frozen=True)
class DecodeLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_duration_s: float = 600.0
    min_duration_s: float = 0.3
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Audio:
    """Decoded audio: float32 mono samples in [-1, 1] at `sample_rate` (16 kHz)."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@functools.cache
def find_ffmpeg(explicit: str | None = None) -> str:
    """The ffmpeg to run: `explicit` (VOICEMOOD_FFMPEG), else ffmpeg on PATH, else imageio-ffmpeg's."""
    if explicit is not None:
        found = shutil.which(explicit)
        if found is None:
            raise FFmpegNotFound(
                f"VOICEMOOD_FFMPEG is set to {explicit!r}, but no executable ffmpeg is there."
            )
        return found
    found = shutil.which("ffmpeg")
    if found is not None:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as error:
        raise FFmpegNotFound(
            "No ffmpeg found: install ffmpeg, `pip install imageio-ffmpeg`, or set "
            "VOICEMOOD_FFMPEG to the path of an ffmpeg binary."
        ) from error


def configure_pydub(ffmpeg: str) -> None:
    """Make pydub (used to encode, e.g. the augmentation's Opus round trip) run this ffmpeg."""
    from pydub import AudioSegment

    AudioSegment.converter = ffmpeg


def decode(
    source: bytes | str | Path, limits: DecodeLimits = DecodeLimits(), *, ffmpeg: str | None = None
) -> Audio:
    """Decode `source` (the file's bytes or its path); raises the AudioError subclasses."""
    with _prepared(source, limits, ffmpeg) as job:
        try:
            done = subprocess.run(
                job.command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=limits.timeout_s,
                pass_fds=job.pass_fds,
            )
        except subprocess.TimeoutExpired:  # run() has already killed and reaped the child
            raise _too_slow(limits) from None
        return _interpret(done.returncode, done.stdout, done.stderr, limits)


async def decode_async(
    source: bytes | str | Path, limits: DecodeLimits = DecodeLimits(), *, ffmpeg: str | None = None
) -> Audio:
    """`decode` without blocking the event loop; the child dies on timeout or cancellation."""
    with _prepared(source, limits, ffmpeg) as job:
        child = await asyncio.create_subprocess_exec(
            *job.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=job.pass_fds,
        )
        try:
            async with asyncio.timeout(limits.timeout_s):
                stdout, stderr = await child.communicate()
        except TimeoutError:
            raise _too_slow(limits) from None
        finally:
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
                await child.wait()
        assert child.returncode is not None
        return _interpret(child.returncode, stdout, stderr, limits)


@dataclass(frozen=True)
class _Job:
    command: list[str]
    pass_fds: tuple[int, ...] = ()


@contextlib.contextmanager
def _prepared(
    source: bytes | str | Path, limits: DecodeLimits, ffmpeg: str | None
) -> Iterator[_Job]:
    """Check the size before anything runs, then give the ffmpeg command reading `source`."""
    if isinstance(source, bytes):
        _check_size(len(source), limits)
        binary = find_ffmpeg(ffmpeg)
        with _as_file(source) as (path, pass_fds):
            yield _Job(_command(binary, path, limits), pass_fds)
        return
    info = os.stat(source)
    # A pipe or device has no size to check up front; -t and the time limit still bound it.
    if stat.S_ISREG(info.st_mode):
        _check_size(info.st_size, limits)
    yield _Job(_command(find_ffmpeg(ffmpeg), os.fspath(source), limits))


def _check_size(size: int, limits: DecodeLimits) -> None:
    if size == 0:
        raise EmptyAudio("That file is empty. Please send a voice note or an audio file.")
    if size > limits.max_bytes:
        limit_mb = megabytes(limits.max_bytes)
        raise TooLarge(
            f"That file is too large for me (the limit is {limit_mb:.3g} MB). "
            "Please send a shorter recording.",
            limit_mb=limit_mb,
        )


@contextlib.contextmanager
def _as_file(data: bytes) -> Iterator[tuple[str, tuple[int, ...]]]:
    """`data` as a seekable file the child can open: in memory where the OS allows, else a temp file."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("voicemood-audio")
        try:
            with open(fd, "wb", closefd=False) as f:
                f.write(data)
            yield f"/proc/self/fd/{fd}", (fd,)
        finally:
            os.close(fd)
        return
    with tempfile.NamedTemporaryFile(prefix="voicemood-", suffix=".audio") as f:
        f.write(data)
        f.flush()
        yield f.name, ()


def _command(ffmpeg: str, path: str, limits: DecodeLimits) -> list[str]:
    return [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        _DEMUXERS,
        # "file:" so a name like "http://..." or "concat:..." is never read as a protocol.
        "-i",
        f"file:{path}",
        "-vn",
        "-map",
        "0:a:0",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        # One second past the limit is enough to tell "too long"; a 3-hour file (or a header
        # claiming one) never produces more output than that.
        "-t",
        f"{limits.max_duration_s + 1:.3f}",
        "-f",
        "f32le",
        "-",
    ]


def _interpret(returncode: int, stdout: bytes, stderr: bytes, limits: DecodeLimits) -> Audio:
    """Turn what the child produced into Audio, or the error that explains why it can't be."""
    # The tail is enough to tell why (a corrupt file can repeat one complaint per frame).
    detail = stderr[-1000:].decode("utf-8", "replace").strip()
    if returncode != 0:
        if "matches no streams" in detail:
            raise NoAudioStream(
                "That file has no sound track, so there is no voice to listen to.", detail=detail
            )
        raise _undecodable(detail)
    samples = np.frombuffer(stdout, dtype="<f4", count=len(stdout) // 4).astype(np.float32)
    if len(samples) == 0:
        raise _undecodable(detail)
    # A float file may carry NaN/inf (or values past full scale), and ffmpeg passes them through.
    np.nan_to_num(samples, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    np.clip(samples, -1.0, 1.0, out=samples)
    audio = Audio(samples)
    if audio.duration_s > limits.max_duration_s:
        raise TooLong(
            f"That recording is too long for me (the limit is {_span(limits.max_duration_s)}). "
            "Please send a shorter one.",
            limit_s=limits.max_duration_s,
        )
    if audio.duration_s < limits.min_duration_s:
        raise TooShort(
            "That recording is too short to tell a tone of voice "
            f"(it needs at least {_span(limits.min_duration_s)}).",
            limit_s=limits.min_duration_s,
            duration_s=audio.duration_s,
        )
    peak = float(np.max(np.abs(samples)))
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if peak < SILENT_PEAK or rms < SILENT_RMS:
        raise SilentAudio(
            "I couldn't hear any voice in that recording: it is silent or almost silent."
        )
    return audio


def _undecodable(detail: str) -> UndecodableAudio:
    return UndecodableAudio(
        "That file doesn't seem to contain audio I can read. Please send a voice note or an "
        f"audio file ({_FORMATS}).",
        detail=detail,
    )


def _too_slow(limits: DecodeLimits) -> UndecodableAudio:
    return UndecodableAudio(
        f"That file took too long to read (over {_span(limits.timeout_s)}), so I stopped. "
        f"Please send a voice note or a common audio file ({_FORMATS}).",
        timeout_s=limits.timeout_s,
    )


def _span(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"

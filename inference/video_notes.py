"""A video note's two halves: its sound track alone, and the faces in its frames.

`sound_track` turns a video's decoded audio (16 kHz mono, what the model hears anyway) into a
FLAC file. The voice analysis and a donation are handed only that file, never the video, so a
donated video note is kept as its sound and nothing of its pictures.

The faces are read by inference.face (a detector and a small expression network, its frames
decoded by an ffmpeg child from an in-memory file) on one thread of its own, in the bot's
process, beside the shared worker: the remote workers' protocol carries windows of PCM, and a
video would be a new kind of request for it, while a 10 s note's faces take 0.3-0.5 s to read
(bench/face_notes.py). The frames live only in that reading; none of it is
stored.
"""

from __future__ import annotations

import asyncio
import io
import logging
from concurrent.futures import ThreadPoolExecutor

import soundfile as sf

from inference.audio import Audio
from inference.face import FaceReading, read_video

log = logging.getLogger(__name__)

# The suffix a video note's sound is kept under when its speaker donates it.
SOUND_SUFFIX = "flac"


def sound_track(audio: Audio) -> bytes:
    """The decoded audio as a FLAC file (24-bit: the float samples' detail the model hears)."""
    out = io.BytesIO()
    sf.write(out, audio.samples, audio.sample_rate, format="FLAC", subtype="PCM_24")
    return out.getvalue()


class FaceReader:
    """Reads the faces of one video at a time, on a thread of its own.

    `max_waiting` bounds the videos waiting for the thread: past it `read` answers None at once
    (the note is answered from the voice alone) instead of making everyone wait longer.
    """

    def __init__(
        self, *, fps: float = 3.0, max_frames: int = 60, max_waiting: int | None = 4
    ) -> None:
        self.fps, self.max_frames = fps, max_frames
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="faces")
        self._room = asyncio.BoundedSemaphore(max_waiting) if max_waiting is not None else None

    async def read(self, video: bytes) -> FaceReading | None:
        """The faces of `video`; None when too many videos already wait. Raises inference.face's
        errors for a video whose frames cannot be read."""
        loop = asyncio.get_running_loop()
        if self._room is None:
            return await loop.run_in_executor(self._executor, self.read_now, video)
        if self._room.locked():
            log.warning("face readings are backed up; a video is answered from the voice alone")
            return None
        async with self._room:
            return await loop.run_in_executor(self._executor, self.read_now, video)

    def read_now(self, video: bytes) -> FaceReading:
        """Blocking: the faces of `video` (for benches and the executor)."""
        return read_video(video, fps=self.fps, max_frames=self.max_frames)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

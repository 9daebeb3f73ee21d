"""Grey frames out of a video or a photo, a few per second, decoded in a child ffmpeg.

The same ffmpeg as the audio (inference.audio.find_ffmpeg), for the same reasons: it reads every
container people send, and a hostile file can at worst crash the child, which a time limit also
kills. Frames come back as PGM images on a pipe, whose small headers carry each frame's size, so
nothing has to be probed first. Video frames are scaled to fit 320x320 (Telegram's round notes
are 384-640 pixels wide and a face fills much of them; the detector's cost grows with the
pixels, bench/face.py), photos to fit 480x480. Frames are handed on as ffmpeg makes them, so
the face is looked for while the rest of the video is still being decoded (the child on one core,
the detector on the other).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from common.audio import suffix_of
from inference.audio import find_ffmpeg
from inference.errors import NoVideoStream, UndecodableVideo

# What `voicemood classify` (and the bots) read a face in, by the file's name: photos are read
# for a face alone, videos for a voice and a face.
PHOTO_SUFFIXES = frozenset({"jpg", "jpeg", "png", "webp", "bmp"})
VIDEO_SUFFIXES = frozenset({"mp4", "m4v", "mov", "webm", "mkv", "avi", "3gp"})
VIDEO_SIDE = 320
PHOTO_SIDE = 480
# Video containers, as inference.audio accepts them, and single images; never a playlist,
# concat list or image sequence, which would make ffmpeg open other files.
_VIDEO_DEMUXERS = "matroska,webm,mov,mp4,m4a,3gp,avi,flv,mpegts,mpeg,ogg,asf,gif"
_IMAGE_DEMUXERS = "png_pipe,jpeg_pipe,webp_pipe,bmp_pipe,tiff_pipe,gif"
_PGM_HEADER = re.compile(rb"P5\n(\d+) (\d+)\n(\d+)\n")
_KINDS = "a video (mp4, webm, mov) or a photo (jpeg, png, webp)"


def is_photo_name(file_name: str) -> bool:
    return suffix_of(file_name) in PHOTO_SUFFIXES


def is_video_name(file_name: str) -> bool:
    return suffix_of(file_name) in VIDEO_SUFFIXES


def video_frames(
    source: Path | bytes,
    *,
    fps: float = 3.0,
    max_frames: int = 60,
    timeout_s: float = 30.0,
    ffmpeg: str | None = None,
) -> Iterator[np.ndarray]:
    """Up to `max_frames` grey uint8 frames, `fps` a second from the start of the first video stream.

    Frames come as they are decoded; UndecodableVideo or NoVideoStream is raised when the file
    turns out to give none (at the end), and stopping early stops the child.
    """
    if fps <= 0 or max_frames < 1:
        raise ValueError("fps must be positive and max_frames at least 1")
    return _decode(
        source,
        demuxers=f"{_VIDEO_DEMUXERS},{_IMAGE_DEMUXERS}",
        filters=f"fps={fps:g},{_scale(VIDEO_SIDE)}",
        max_frames=max_frames,
        timeout_s=timeout_s,
        ffmpeg=ffmpeg,
    )


def image_frame(
    source: Path | bytes, *, timeout_s: float = 30.0, ffmpeg: str | None = None
) -> np.ndarray:
    """A photo (or a video's first frame) as one grey uint8 frame."""
    frames = _decode(
        source,
        demuxers=f"{_IMAGE_DEMUXERS},{_VIDEO_DEMUXERS}",
        filters=_scale(PHOTO_SIDE),
        max_frames=1,
        timeout_s=timeout_s,
        ffmpeg=ffmpeg,
    )
    return list(frames)[0]


def _scale(side: int) -> str:
    return f"scale={side}:{side}:force_original_aspect_ratio=decrease"


def _decode(
    source: Path | bytes,
    *,
    demuxers: str,
    filters: str,
    max_frames: int,
    timeout_s: float,
    ffmpeg: str | None,
) -> Iterator[np.ndarray]:
    # The child reads an open descriptor (/proc/self/fd/N), never a name: a name ending in .jpg
    # would make ffmpeg pick its image-sequence reader, which may open other files.
    if isinstance(source, bytes):
        fd = os.memfd_create("voicemood-video")
        try:
            os.write(fd, source)
        except BaseException:
            os.close(fd)
            raise
    else:
        fd = os.open(source, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size == 0:
            raise _undecodable("empty file")
        command = _command(
            find_ffmpeg(ffmpeg), f"/proc/self/fd/{fd}", demuxers, filters, max_frames
        )
        yield from _frames_of(command, fd, timeout_s)
    finally:
        os.close(fd)


def _command(binary: str, path: str, demuxers: str, filters: str, max_frames: int) -> list[str]:
    return [
        binary,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        demuxers,
        # One decoding thread and no deblocking: a third less CPU for frames that are scaled
        # down and read for a face (bench/face.py); the voice's model needs the other core.
        "-threads",
        "1",
        "-skip_loop_filter",
        "all",
        "-i",
        f"file:{path}",
        "-an",
        # "V": a real picture stream, never an album cover attached to an audio file.
        "-map",
        "0:V:0",
        "-vf",
        filters,
        "-frames:v",
        str(max_frames),
        "-f",
        "image2pipe",
        "-c:v",
        "pgm",
        "-",
    ]


def _frames_of(command: list[str], fd: int, timeout_s: float) -> Iterator[np.ndarray]:
    """The child's PGM frames one by one; it is killed at `timeout_s` or when the reader stops."""
    # stderr goes to a file: a corrupt video can complain once a frame, and a full pipe would
    # stall the child while this reads its frames.
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            pass_fds=(fd,),
        )
        assert child.stdout is not None
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            child.kill()

        timer = threading.Timer(timeout_s, expire)
        timer.start()
        found = 0
        try:
            while (frame := _next_pgm(child.stdout)) is not None:
                found += 1
                yield frame
            child.wait()
        finally:
            timer.cancel()
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
        errors.seek(max(0, errors.seek(0, os.SEEK_END) - 1000))
        detail = errors.read().decode("utf-8", "replace").strip()
    # Frames before a time-out or a corrupt stretch still count; only none at all is an error.
    if found:
        return
    if expired.is_set():
        raise UndecodableVideo(
            f"That file took too long to read (over {timeout_s:g} s), so I stopped.",
            timeout_s=timeout_s,
        )
    if "matches no streams" in detail:
        raise NoVideoStream(
            "That file has no picture in it, so there is no face to read.", detail=detail
        )
    raise _undecodable(detail)


def _next_pgm(stream: IO[bytes]) -> np.ndarray | None:
    """One binary PGM image ("P5\\nW H\\n255\\n" + W*H bytes, as ffmpeg writes it), or None at the end."""
    header = b"".join(stream.readline() for _ in range(3))
    if not header:
        return None
    match = _PGM_HEADER.fullmatch(header)
    if match is None:
        return None
    width, height, maxval = (int(value) for value in match.groups())
    pixels = stream.read(width * height)
    if maxval != 255 or len(pixels) < width * height:
        return None
    return np.frombuffer(pixels, np.uint8).reshape(height, width)


def _undecodable(detail: str) -> UndecodableVideo:
    return UndecodableVideo(
        f"That file doesn't seem to hold a picture I can read. Please send {_KINDS}.",
        detail=detail,
    )

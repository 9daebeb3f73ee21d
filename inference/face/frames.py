"""Grey frames out of a video or a photo, a few per second, decoded in a child ffmpeg.

The same ffmpeg as the audio (inference.audio.find_ffmpeg), for the same reasons: it reads every
container people send, and a hostile file can at worst crash the child, which a time limit also
kills. Frames come back as PGM images on a pipe, whose small headers carry each frame's size, so
nothing has to be probed first. Video frames are scaled to fit 320x320 (Telegram's round notes
are 384-640 pixels wide and a face fills much of them; the detector's cost grows with the
pixels, bench/face.py), photos to fit 480x480.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

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
_PGM_HEADER = re.compile(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s")
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
) -> list[np.ndarray]:
    """Up to `max_frames` grey uint8 frames, `fps` a second from the start of the first video stream."""
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
    return _decode(
        source,
        demuxers=f"{_IMAGE_DEMUXERS},{_VIDEO_DEMUXERS}",
        filters=_scale(PHOTO_SIDE),
        max_frames=1,
        timeout_s=timeout_s,
        ffmpeg=ffmpeg,
    )[0]


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
) -> list[np.ndarray]:
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
        return _run(f"/proc/self/fd/{fd}", (fd,), demuxers, filters, max_frames, timeout_s, ffmpeg)
    finally:
        os.close(fd)


def _run(
    path: str,
    pass_fds: tuple[int, ...],
    demuxers: str,
    filters: str,
    max_frames: int,
    timeout_s: float,
    ffmpeg: str | None,
) -> list[np.ndarray]:
    command = [
        find_ffmpeg(ffmpeg),
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
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            pass_fds=pass_fds,
        )
    except subprocess.TimeoutExpired:
        raise UndecodableVideo(
            f"That file took too long to read (over {timeout_s:g} s), so I stopped.",
            timeout_s=timeout_s,
        ) from None
    detail = done.stderr[-1000:].decode("utf-8", "replace").strip()
    if done.returncode != 0 and "matches no streams" in detail:
        raise NoVideoStream(
            "That file has no picture in it, so there is no face to read.", detail=detail
        )
    frames = _parse_pgm(done.stdout)
    # A truncated file may still give its first frames; only nothing at all is an error.
    if not frames:
        raise _undecodable(detail)
    return frames


def _parse_pgm(stream: bytes) -> list[np.ndarray]:
    """Split ffmpeg's concatenated binary PGM images ("P5\\nW H\\n255\\n" + W*H bytes each)."""
    frames: list[np.ndarray] = []
    at = 0
    while (header := _PGM_HEADER.match(stream, at)) is not None:
        width, height, maxval = (int(value) for value in header.groups())
        end = header.end() + width * height
        if maxval != 255 or end > len(stream):
            break
        pixels = np.frombuffer(stream, np.uint8, width * height, header.end())
        frames.append(pixels.reshape(height, width))
        at = end
    return frames


def _undecodable(detail: str) -> UndecodableVideo:
    return UndecodableVideo(
        f"That file doesn't seem to hold a picture I can read. Please send {_KINDS}.",
        detail=detail,
    )

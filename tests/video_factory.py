"""Real videos for tests: a real face photo moving across the frames, a voice track, real ffmpeg.

The face is Grace Hopper's portrait (a U.S. Navy photo, public domain) that matplotlib ships as
sample data, so no picture is downloaded; OpenCV's frontal-face detector finds it.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import numpy as np
from matplotlib import cbook
from PIL import Image

from tests.audio_factory import SR, write_wav

FPS = 15


@functools.cache
def face_photo() -> np.ndarray:
    """The portrait's top square (512 x 512, the face in it) as RGB pixels."""
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    photo = np.asarray(Image.open(path).convert("RGB"))
    return photo[:512, :512].copy()


def face_video(
    ffmpeg: str,
    voice: np.ndarray,
    path: Path,
    *,
    face: bool = True,
    size: int = 240,
    sr: int = SR,
) -> Path:
    """A square mp4 like a Telegram round video note (H.264 + AAC) as long as `voice`.

    With `face`, the portrait (two thirds of the frame high) drifts from left to right and back;
    without, a grey gradient with a drifting darker square stands in its place.
    """
    seconds = len(voice) / sr
    frames = max(1, round(seconds * FPS))
    wav = write_wav(path.with_name(path.stem + ".src.wav"), voice, sr)
    command = [
        ffmpeg,
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{size}x{size}",
        "-r",
        str(FPS),
        "-i",
        "-",
        "-i",
        str(wav),
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        "-movflags",
        "+faststart",
        str(path),
    ]
    pixels = b"".join(_frame(i, frames, size, face).tobytes() for i in range(frames))
    subprocess.run(command, input=pixels, check=True, capture_output=True, timeout=120)
    wav.unlink()
    return path


def _frame(index: int, frames: int, size: int, face: bool) -> np.ndarray:
    """One frame: the background, and the portrait (or a plain square) at this frame's place."""
    ramp = np.linspace(90, 160, size, dtype=np.float32)
    frame = np.repeat(np.repeat(ramp[None, :, None], size, axis=0), 3, axis=2).astype(np.uint8)
    side = size * 2 // 3
    phase = index / max(1, frames - 1)
    left = int((size - side) * (0.5 - 0.5 * np.cos(2 * np.pi * phase)))
    top = (size - side) // 2
    if face:
        frame[top : top + side, left : left + side] = _scaled_photo(side)
    else:
        frame[top : top + side, left : left + side] = 60
    return frame


@functools.cache
def _scaled_photo(side: int) -> np.ndarray:
    return np.asarray(Image.fromarray(face_photo()).resize((side, side), Image.Resampling.BILINEAR))

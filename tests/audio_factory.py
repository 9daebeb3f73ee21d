"""Real audio files for tests: a speech-like signal synthesised here, encoded by the real ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16_000


def speechlike(seconds: float, *, f0: float = 140.0, seed: int = 0, sr: int = SR) -> np.ndarray:
    """A voiced, syllable-paced harmonic signal with a moving pitch: not speech, but shaped like it."""
    rng = np.random.default_rng(seed)
    n = max(1, int(seconds * sr))
    t = np.arange(n) / sr
    pitch = f0 * (1 + 0.15 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = 0.5 * (1 + np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6))) ** 2
    signal = voiced * syllables + 0.01 * rng.standard_normal(n)
    return (0.3 * signal / np.max(np.abs(signal))).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, sr: int = SR) -> Path:
    sf.write(path, samples, sr, subtype="PCM_16")
    return path


# Output options per kind: what Telegram/Discord and phones actually send.
_ENCODE = {
    "ogg": ["-c:a", "libopus", "-b:a", "24k", "-ar", "48000"],  # Telegram/Discord voice note
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "m4a": ["-c:a", "aac", "-b:a", "64k"],
    "wav": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac"],
    "webm": ["-c:a", "libopus", "-b:a", "32k"],  # what browsers' MediaRecorder makes
}


def encode(ffmpeg: str, samples: np.ndarray, path: Path, sr: int = SR) -> Path:
    """Encode `samples` into `path`, its format chosen by the suffix (ogg, mp3, m4a, wav, flac, webm)."""
    wav = path.with_name(path.stem + ".src.wav")
    write_wav(wav, samples, sr)
    kind = path.suffix.lstrip(".")
    _run([ffmpeg, "-y", "-i", str(wav), *_ENCODE[kind], str(path)])
    wav.unlink()
    return path


def video_note(ffmpeg: str, samples: np.ndarray | None, path: Path, sr: int = SR) -> Path:
    """An mp4 like a Telegram video note (H.264 + AAC); without samples, a video with no audio track."""
    seconds = 2.0 if samples is None else len(samples) / sr
    cmd = [ffmpeg, "-y", "-f", "lavfi", "-i", f"color=c=blue:s=64x64:d={seconds:.2f}"]
    if samples is not None:
        wav = write_wav(path.with_name(path.stem + ".src.wav"), samples, sr)
        cmd += ["-i", str(wav), "-c:a", "aac", "-shortest"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    _run(cmd)
    if samples is not None:
        path.with_name(path.stem + ".src.wav").unlink()
    return path


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)

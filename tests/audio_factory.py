"""Real audio files for tests: a speech-like signal synthesised here, encoded by the real ffmpeg."""

from __future__ import annotations

import functools
import io
import shutil
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


# espeak-ng reads these; a real synthetic voice that the speech detector hears as speech however
# long the note (speechlike() reads as speech for only its first ~5 s).
_SENTENCES = (
    "I went down to the market this morning and the whole street was full of people.",
    "Nobody could tell me where the bus stopped, so I walked all the way home in the rain.",
    "Then my sister called and said she was coming over for dinner tonight.",
    "We cooked pasta and talked for hours about everything and nothing.",
    "The train was late again, but the view from the bridge was worth the wait.",
    "Can you believe it? They finally fixed the lights in the hallway.",
)
_KOREAN = (
    "오늘 아침에 시장에 갔는데 거리에 사람이 정말 많았어요.",
    "버스 정류장을 못 찾아서 비를 맞으며 집까지 걸어왔어요.",
    "저녁에 동생이 놀러 온다고 전화했어요.",
)


def espeak() -> str | None:
    """The espeak-ng binary, or None when it is not installed (Debian's package espeak-ng)."""
    return shutil.which("espeak-ng")


def spoken(seconds: float, *, seed: int = 0, lang: str = "en") -> np.ndarray:
    """`seconds` of a real synthetic voice (espeak-ng) reading sentences, cut to length.

    Raises FileNotFoundError without espeak-ng; tests that need it skip then (tests/conftest.py).
    """
    return _spoken(round(seconds, 3), seed, lang).copy()


@functools.lru_cache(maxsize=32)
def _spoken(seconds: float, seed: int, lang: str) -> np.ndarray:
    from scipy.signal import resample_poly

    binary = espeak()
    if binary is None:
        raise FileNotFoundError("espeak-ng is not installed (apt-get install espeak-ng)")
    rng = np.random.default_rng(seed)
    sentences = _KOREAN if lang == "ko" else _SENTENCES
    order = rng.permutation(len(sentences))
    text = " ".join(sentences[i] for i in order)
    pitch, speed = int(rng.integers(30, 70)), int(rng.integers(140, 175))
    chunks = []
    total = 0.0
    while total < seconds:
        wav = subprocess.run(
            [binary, "-v", lang, "-p", str(pitch), "-s", str(speed), "--stdout", text],
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout
        samples, sr = sf.read(io.BytesIO(wav), dtype="float32")
        chunks.append(resample_poly(samples, SR, sr).astype(np.float32))
        total += len(chunks[-1]) / SR
    voice = np.concatenate(chunks)[: int(seconds * SR)]
    return (0.3 * voice / np.max(np.abs(voice))).astype(np.float32)


# Sounds people send that are not speech, loud enough to pass the silence check: made here so
# the speech detector is tested (and benchmarked, bench/speech.py) on something real to it.


def chord(seconds: float = 4.0, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    """A sustained major triad with harmonics and a slow tremolo, like a held synth chord."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
    notes = (root, root * 2 ** (4 / 12), root * 2 ** (7 / 12), root * 2)
    tone = sum(np.sin(2 * np.pi * k * f * t) / k for f in notes for k in range(1, 5))
    return _level(tone * (1 + 0.1 * np.sin(2 * np.pi * 5 * t)))


def white_noise(seconds: float = 4.0, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    return _level(np.random.default_rng(seed).standard_normal(int(seconds * sr)))


def pink_noise(seconds: float = 4.0, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    """Noise with a 1/f spectrum, the rumble of a street or a fan."""
    n = int(seconds * sr)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    return _level(np.fft.irfft(spectrum, n))


def applause(seconds: float = 4.0, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    """Many claps a few milliseconds long at random times: decaying bursts of filtered noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n)
    clap = int(0.03 * sr)
    decay = np.exp(-np.arange(clap) / (0.005 * sr))
    for start in rng.integers(0, n - clap, int(seconds * 40)):
        burst = np.diff(rng.standard_normal(clap + 1)) * decay * rng.uniform(0.3, 1.0)
        out[start : start + clap] += burst
    return _level(out)


def sweep(seconds: float = 4.0, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    """A sine sliding exponentially from 100 Hz to 4 kHz (or back), a siren or a test tone."""
    t = np.arange(int(seconds * sr)) / sr
    low, high = (100.0, 4000.0) if seed % 2 == 0 else (4000.0, 100.0)
    rate = np.log(high / low) / seconds
    return _level(np.sin(2 * np.pi * low * (np.exp(rate * t) - 1) / rate))


def music_like(seconds: float = 4.0, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    """A melody of plucked harmonic notes over a bass line and a hi-hat, at 120 beats a minute."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n)
    beat = int(0.25 * sr)
    scale = (0, 2, 4, 5, 7, 9, 11, 12)
    for i, start in enumerate(range(0, n, beat)):
        t = np.arange(min(beat * 2, n - start)) / sr
        f = 220.0 * 2 ** (scale[rng.integers(0, len(scale))] / 12)
        note = sum(np.sin(2 * np.pi * k * f * t) * 0.6**k for k in range(1, 6)) * np.exp(-4 * t)
        if i % 2 == 0:
            note = note + 0.8 * np.sin(2 * np.pi * 55.0 * t) * np.exp(-3 * t)
        hat = rng.standard_normal(len(t)) * np.exp(-t / 0.01) * 0.2
        out[start : start + len(t)] += note + hat
    return _level(out)


NOT_SPEECH = {
    "chord": chord,
    "white noise": white_noise,
    "pink noise": pink_noise,
    "applause": applause,
    "sine sweep": sweep,
    "music-like": music_like,
}


def _level(signal: np.ndarray, peak: float = 0.5) -> np.ndarray:
    return (peak * signal / np.max(np.abs(signal))).astype(np.float32)


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

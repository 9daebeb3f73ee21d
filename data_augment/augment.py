"""Augmentations that make acted studio speech sound like real voice notes.

Every function takes float32 mono samples at 16 kHz and returns float32 at 16 kHz. All keep the
length except `change_tempo`, which returns about len / rate samples. `VoiceNoteAugmenter` draws
a random chain of them from its own seeded generator, so a training run repeats exactly.

Pitch and tempo use librosa's phase vocoder. Noise is drawn here rather than by audiomentations,
whose transforms draw from the process-wide `random`/`np.random` state: a seeded run would then
depend on whatever else touched that state. The codec is the real libopus inside ffmpeg.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import librosa
import numpy as np
from scipy.signal import fftconvolve

from inference.audio import find_ffmpeg

SAMPLE_RATE = 16_000

NoiseColor = Literal["white", "pink", "brown"]
OpusApplication = Literal["audio", "voip", "lowdelay"]
# Power falls by this exponent of frequency: white 1/f^0, pink 1/f, brown 1/f^2.
_COLOR_EXPONENT = {"white": 0.0, "pink": 1.0, "brown": 2.0}


def opus_round_trip(
    samples: np.ndarray,
    bitrate_kbps: float = 16.0,
    *,
    application: OpusApplication = "audio",
    ffmpeg: str | None = None,
) -> np.ndarray:
    """Encode to OGG/Opus at a voice-note bitrate and decode again; same length as the input.

    ffmpeg is called directly (not through pydub) because pydub's decoder cannot ask ffmpeg for
    16 kHz output: its extra parameters land after the output name, where ffmpeg ignores them.
    """
    binary = find_ffmpeg(ffmpeg)
    quiet = [binary, "-nostdin", "-hide_banner", "-loglevel", "error"]
    raw = ["-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1"]
    encoded = _run(
        [*quiet, *raw, "-i", "pipe:0", "-c:a", "libopus", "-b:a", f"{bitrate_kbps:g}k"]
        + ["-application", application, "-f", "ogg", "pipe:1"],
        _as_float32(samples).astype("<f4").tobytes(),
    )
    decoded = _run([*quiet, "-i", "pipe:0", *raw, "pipe:1"], encoded)
    # The Ogg granule positions trim Opus's padding; fit_length only guards the last frame.
    return fit_length(np.frombuffer(decoded, dtype="<f4").astype(np.float32), len(samples))


def add_noise(
    samples: np.ndarray,
    snr_db: float,
    rng: np.random.Generator,
    *,
    color: NoiseColor = "white",
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Add noise at exactly `snr_db` below the signal: coloured noise, or a real recording if given."""
    samples = _as_float32(samples)
    if noise is None:
        noise = colored_noise(len(samples), color, rng)
    else:
        noise = _loop_to(np.asarray(noise, dtype=np.float32), len(samples), rng)
    signal_power = float(np.mean(samples.astype(np.float64) ** 2))
    noise_power = float(np.mean(noise.astype(np.float64) ** 2))
    if signal_power == 0.0 or noise_power == 0.0:
        return samples.copy()
    scale = np.sqrt(signal_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    return (samples + scale * noise).astype(np.float32)


def colored_noise(n: int, color: NoiseColor, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of white, pink or brown noise with unit power."""
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    frequencies = np.fft.rfftfreq(n, d=1.0 / SAMPLE_RATE)
    frequencies[0] = frequencies[1] if n > 1 else 1.0  # no infinite power at DC
    spectrum *= frequencies ** (-_COLOR_EXPONENT[color] / 2.0)
    noise = np.fft.irfft(spectrum, n=n)
    power = float(np.mean(noise**2)) or 1.0
    return (noise / np.sqrt(power)).astype(np.float32)


def reverberate(
    samples: np.ndarray,
    rng: np.random.Generator,
    *,
    rt60_s: float = 0.4,
    direct_to_reverb_db: float = 3.0,
) -> np.ndarray:
    """Room reverberation from a synthetic impulse response; same length and loudness as the input.

    The response is a direct path followed by exponentially decaying noise that falls 60 dB in
    `rt60_s`: the usual statistical model of a room's late reverberation, without room geometry
    (pyroomacoustics would add that at many times the cost).
    """
    samples = _as_float32(samples)
    length = max(1, int(rt60_s * SAMPLE_RATE))
    t = np.arange(length) / SAMPLE_RATE
    tail = rng.standard_normal(length) * np.exp(-6.9078 * t / rt60_s)  # ln(1000): 60 dB
    tail[0] = 0.0
    tail *= np.sqrt(10.0 ** (-direct_to_reverb_db / 10.0) / np.sum(tail**2))
    response = tail
    response[0] = 1.0
    wet = fftconvolve(samples, response)[: len(samples)]
    return _match_rms(wet, samples)


def pitch_shift(samples: np.ndarray, semitones: float) -> np.ndarray:
    """Shift the pitch by `semitones` keeping the duration (librosa phase vocoder + resampling)."""
    samples = _as_float32(samples)
    shifted = librosa.effects.pitch_shift(samples, sr=SAMPLE_RATE, n_steps=semitones)
    return fit_length(shifted.astype(np.float32), len(samples))


def change_tempo(samples: np.ndarray, rate: float) -> np.ndarray:
    """Speak `rate` times faster keeping the pitch: returns round(len / rate) samples."""
    samples = _as_float32(samples)
    return librosa.effects.time_stretch(samples, rate=rate).astype(np.float32)


def apply_gain(samples: np.ndarray, gain_db: float) -> np.ndarray:
    """Louder or quieter by `gain_db` (not clipped: `VoiceNoteAugmenter` clips once, at the end)."""
    return (_as_float32(samples) * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


def fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    """Trim, or pad with silence, to exactly `length` samples."""
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))


@dataclass(frozen=True)
class VoiceNoteConditions:
    """How often each augmentation is applied and the range its strength is drawn from."""

    p_tempo: float = 0.3
    tempo_rate: tuple[float, float] = (0.9, 1.1)
    p_pitch: float = 0.3
    pitch_semitones: tuple[float, float] = (-2.0, 2.0)
    p_gain: float = 0.5
    gain_db: tuple[float, float] = (-6.0, 6.0)
    p_reverb: float = 0.3
    rt60_s: tuple[float, float] = (0.15, 0.6)
    direct_to_reverb_db: tuple[float, float] = (0.0, 10.0)
    p_noise: float = 0.5
    snr_db: tuple[float, float] = (5.0, 30.0)
    p_opus: float = 0.7
    opus_kbps: tuple[float, float] = (12.0, 32.0)


class VoiceNoteAugmenter:
    """A random voice-note chain for training: speaker (tempo, pitch), level, room, noise, codec.

    Deterministic under `seed`: the same seed and the same sequence of inputs give the same
    outputs. Only tempo changes the length; pass `keep_length=True` to pad/trim back to the input's.
    The output is clipped to [-1, 1], as a phone's recorder would.
    """

    def __init__(
        self,
        seed: int = 0,
        conditions: VoiceNoteConditions | None = None,
        *,
        noise_clips: Sequence[np.ndarray] = (),
        keep_length: bool = False,
        ffmpeg: str | None = None,
    ) -> None:
        self.seed = seed
        self.conditions = conditions or VoiceNoteConditions()
        self.noise_clips = list(noise_clips)
        self.keep_length = keep_length
        self._ffmpeg = ffmpeg
        self._rng = np.random.default_rng(seed)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """One augmented copy of `samples`."""
        c, rng = self.conditions, self._rng
        out = _as_float32(samples)
        # Every draw happens whether or not its step applies, so one step's probability does not
        # shift the random stream of the others.
        tempo, semitones, gain = _uniform(rng, c.tempo_rate, c.pitch_semitones, c.gain_db)
        rt60, drr, snr, kbps = _uniform(rng, c.rt60_s, c.direct_to_reverb_db, c.snr_db, c.opus_kbps)
        apply = rng.random(6) < (c.p_tempo, c.p_pitch, c.p_gain, c.p_reverb, c.p_noise, c.p_opus)
        color: NoiseColor = _COLORS[int(rng.integers(len(_COLORS)))]
        application: OpusApplication = _APPLICATIONS[int(rng.integers(len(_APPLICATIONS)))]
        step_rng = np.random.default_rng(rng.integers(2**63))
        if apply[0]:
            out = change_tempo(out, tempo)
        if apply[1]:
            out = pitch_shift(out, semitones)
        if apply[2]:
            out = apply_gain(out, gain)
        if apply[3]:
            out = reverberate(out, step_rng, rt60_s=rt60, direct_to_reverb_db=drr)
        if apply[4]:
            noise = None
            if self.noise_clips:
                noise = self.noise_clips[int(step_rng.integers(len(self.noise_clips)))]
            out = add_noise(out, snr, step_rng, color=color, noise=noise)
        if apply[5]:
            out = opus_round_trip(out, round(kbps), application=application, ffmpeg=self._ffmpeg)
        if self.keep_length:
            out = fit_length(out, len(samples))
        return np.clip(out, -1.0, 1.0).astype(np.float32)


_COLORS: tuple[NoiseColor, ...] = ("white", "pink", "brown")
# Apps differ in libopus's application mode; "voip" adds its speech high-pass and tuning.
_APPLICATIONS: tuple[OpusApplication, ...] = ("audio", "voip")


def _uniform(rng: np.random.Generator, *ranges: tuple[float, float]) -> list[float]:
    return [float(rng.uniform(low, high)) for low, high in ranges]


def _as_float32(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples (one dimension), got shape {samples.shape}")
    return samples


def _loop_to(noise: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random `length`-sample stretch of a real noise recording, looped if it is shorter."""
    if len(noise) == 0:
        raise ValueError("the noise recording is empty")
    repeats = -(-(length + len(noise)) // len(noise))
    start = int(rng.integers(len(noise)))
    return np.tile(noise, repeats)[start : start + length]


def _match_rms(samples: np.ndarray, reference: np.ndarray) -> np.ndarray:
    power = float(np.mean(samples.astype(np.float64) ** 2))
    target = float(np.mean(reference.astype(np.float64) ** 2))
    if power == 0.0:
        return samples.astype(np.float32)
    return (samples * np.sqrt(target / power)).astype(np.float32)


def _run(command: list[str], data: bytes) -> bytes:
    result = subprocess.run(command, input=data, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout

"""Voice cues in plain numbers: pitch level and range, loudness, speaking rate, pauses.

A label alone is a verdict; these say *why* a tone sounds the way it does (issue 14). librosa is
used because the project already depends on it (augmentation) and its `yin` is a maintained,
vectorised F0 tracker: on a 5 s note at 8 kHz it takes about 5 ms, where `librosa.pyin` took
2.6 s on the same note (bench/cues.py), far over the 30 ms the cues may add. yin has no voicing
decision, so a frame counts as voiced when it is loud (within 30 dB of the note's loudest frame)
and not noise-like (low zero-crossing rate), and its F0 is inside the search range.

Each cue is compared with a reference: the speaker's own usual values (`CueBaseline`, running
statistics kept only under their `/baseline` consent, never audio) or, without them, what is
typical for voices of similar pitch (`TYPICAL`).

Voice steadiness (jitter, shimmer, frame-to-frame wobble) is measured but deliberately not
described: on RAVDESS it rises about as often for angry and surprised speech as for fearful and
sad speech, so "shakier" would only repeat loudness and call an angry voice shaky
(`python bench/steadiness.py`, figures in its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Word = Literal["higher", "lower", "typical"]
CUE_NAMES = ("pitch_hz", "pitch_range_st", "loudness_db", "speech_rate", "pause_share")

SR = 16_000
_HOP = 160  # 10 ms frames
_FRAME = 400  # 25 ms
_FMIN, _FMAX = 60.0, 500.0
_SPEECH_DB = 35.0  # a frame this far below the loudest is silence
_VOICED_DB = 30.0
_MAX_ZCR = 0.25  # zero crossings per sample; above it a frame sounds like a fricative or noise
_MIN_PAUSE_S = 0.2  # shorter gaps are stops between sounds, not pauses
_NUCLEUS_DB = 2.0  # an envelope peak must stand this far above its surroundings to be a syllable
_MIN_SYLLABLE_S = 0.1

# How far a value may sit from its reference and still be "typical": roughly what a listener
# notices (1.5 semitones of level, 2 of range, 3 dB, 15% of rate, 8 points of pause share).
_TOLERANCE = {
    "pitch_hz": 1.5,  # semitones
    "pitch_range_st": 2.0,
    "loudness_db": 3.0,
    "speech_rate": 0.15,  # relative
    "pause_share": 0.08,
}
# The same steps, for features that count distances between cues in what a listener notices.
NOTICEABLE = _TOLERANCE

# Below this median F0 a voice counts as "low" for the typical values.
LOW_VOICE_HZ = 165.0
# Typical values for neutral speech of low and high voices: medians over the neutral clips of
# RAVDESS actors 1-16 (males are the odd actors), measured by `python bench/cues.py --typical`.
# Acted, read speech in a studio, one sentence each: a rough reference, which is why a person's
# own baseline replaces it as soon as they keep one.
TYPICAL: dict[str, dict[str, float]] = {
    # 31 clips of 8 male actors; 33 of 8 female actors (one sentence each: hardly any pauses).
    "low": {
        "pitch_hz": 114.8,
        "pitch_range_st": 7.7,
        "loudness_db": -43.9,
        "speech_rate": 4.26,
        "pause_share": 0.0,
    },
    "high": {
        "pitch_hz": 205.3,
        "pitch_range_st": 8.0,
        "loudness_db": -42.6,
        "speech_rate": 4.49,
        "pause_share": 0.0,
    },
}
# Notes a speaker's own statistics need before they are "usual"; fewer fall back to TYPICAL.
MIN_USUAL_NOTES = 3


@dataclass(frozen=True)
class Cue:
    """One measured cue: its value, the reference it is read against, and the plain word."""

    value: float | None
    usual: float | None = None
    word: Word | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "value": None if self.value is None else round(self.value, 3),
            "usual": None if self.usual is None else round(self.usual, 3),
            "word": self.word,
        }


@dataclass(frozen=True)
class Cues:
    """A note's cues. `against` says what `usual` is: the speaker's own, or typical voices'."""

    pitch_hz: Cue
    pitch_range_st: Cue
    loudness_db: Cue
    speech_rate: Cue
    pause_share: Cue
    longest_pause_s: float | None = None
    against: Literal["own", "typical"] | None = None

    def values(self) -> dict[str, float | None]:
        return {name: getattr(self, name).value for name in CUE_NAMES}

    def to_json(self) -> dict[str, object]:
        return {name: getattr(self, name).to_json() for name in CUE_NAMES}

    @staticmethod
    def empty_json() -> dict[str, object]:
        """The contract's shape when nothing could be measured: every key, every field null."""
        return {name: Cue(None).to_json() for name in CUE_NAMES}


@dataclass(frozen=True)
class CueBaseline:
    """Running statistics of one speaker's cues (Welford's count, mean, M2 per cue), never audio.

    A cue missing from a note (no voiced frames) leaves its own count unchanged.
    """

    counts: tuple[int, ...]
    means: tuple[float, ...]
    m2s: tuple[float, ...]

    @classmethod
    def empty(cls) -> CueBaseline:
        n = len(CUE_NAMES)
        return cls((0,) * n, (0.0,) * n, (0.0,) * n)

    @property
    def count(self) -> int:
        return max(self.counts)

    def usual(self) -> dict[str, float | None]:
        """The speaker's mean per cue, None until it rests on MIN_USUAL_NOTES notes."""
        return {
            name: (mean if count >= MIN_USUAL_NOTES else None)
            for name, count, mean in zip(CUE_NAMES, self.counts, self.means, strict=True)
        }

    def updated(self, cues: Cues) -> CueBaseline:
        counts, means, m2s = list(self.counts), list(self.means), list(self.m2s)
        for i, value in enumerate(cues.values().values()):
            if value is None:
                continue
            counts[i] += 1
            delta = value - means[i]
            means[i] += delta / counts[i]
            m2s[i] += delta * (value - means[i])
        return CueBaseline(tuple(counts), tuple(means), tuple(m2s))

    def to_bytes(self) -> bytes:
        """counts, means, m2s as little-endian float64 (storage keeps it opaque)."""
        return np.array([*self.counts, *self.means, *self.m2s], "<f8").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> CueBaseline:
        values = np.frombuffer(data, "<f8")
        n = len(CUE_NAMES)
        if values.size != 3 * n:
            raise ValueError(f"a cue baseline holds {3 * n} numbers, not {values.size}")
        return cls(
            tuple(int(v) for v in values[:n]),
            tuple(float(v) for v in values[n : 2 * n]),
            tuple(float(v) for v in values[2 * n :]),
        )


@dataclass(frozen=True)
class Measured:
    """The raw measurements of one note, before any reference."""

    pitch_hz: float | None
    pitch_range_st: float | None
    loudness_db: float | None
    speech_rate: float | None
    pause_share: float | None
    longest_pause_s: float | None


def measure(samples: np.ndarray, sample_rate: int = SR) -> Measured:
    """Measure a decoded note (mono float32); a cue that cannot be measured is None."""
    import librosa
    from scipy.signal import resample_poly

    y = np.asarray(samples, np.float32)
    if sample_rate != SR:
        y = resample_poly(y, SR, sample_rate).astype(np.float32)
    if len(y) < _FRAME * 2:
        return Measured(None, None, None, None, None, None)
    rms = librosa.feature.rms(y=y, frame_length=_FRAME, hop_length=_HOP)[0]
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=_FRAME, hop_length=_HOP)[0]
    # yin at 8 kHz: F0 of speech is far below 4 kHz, and half the samples halve the cost.
    f0 = librosa.yin(
        resample_poly(y, 1, 2), fmin=_FMIN, fmax=_FMAX, sr=SR // 2, frame_length=512, hop_length=80
    )
    n = min(len(rms), len(zcr), len(f0))
    rms, zcr, f0 = rms[:n], zcr[:n], f0[:n]
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    top = float(db.max())
    if top < -70:  # digital silence
        return Measured(None, None, None, None, None, None)
    speech = db > top - _SPEECH_DB
    voiced = (db > top - _VOICED_DB) & (zcr < _MAX_ZCR) & (f0 > _FMIN * 1.05) & (f0 < _FMAX * 0.95)

    pitch = level = spread = None
    if voiced.sum() >= 5:
        semitones = 12 * np.log2(f0[voiced])
        pitch = float(np.median(f0[voiced]))
        p10, p90 = np.percentile(semitones, [10, 90])
        spread = float(p90 - p10)
        level = float(20 * np.log10(np.sqrt(np.mean(np.square(rms[voiced]))) + 1e-10))

    share, longest, speech_s = _pauses(speech)
    rate = None
    if speech_s >= 0.5:
        rate = _nuclei(db, voiced) / speech_s
    return Measured(pitch, spread, level, rate, share, longest)


def compare(measured: Measured, usual: CueBaseline | None = None) -> Cues:
    """Read the measurements against the speaker's usual values, or typical voices of that pitch."""
    own = usual.usual() if usual is not None else {}
    reference: dict[str, float | None]
    against: Literal["own", "typical"] | None
    if any(v is not None for v in own.values()):
        reference, against = own, "own"
    elif measured.pitch_hz is not None:
        group = "low" if measured.pitch_hz < LOW_VOICE_HZ else "high"
        reference, against = dict(TYPICAL[group]), "typical"
    else:
        reference, against = {}, None  # no voice heard: no voices of "similar pitch" to cite
    cues = {
        name: Cue(
            getattr(measured, name),
            reference.get(name),
            _word(name, getattr(measured, name), reference.get(name)),
        )
        for name in CUE_NAMES
    }
    return Cues(**cues, longest_pause_s=measured.longest_pause_s, against=against)  # type: ignore[arg-type]


def cues_of(samples: np.ndarray, sample_rate: int = SR, usual: CueBaseline | None = None) -> Cues:
    """Measure a note and read it against a reference, in one call (for `asyncio.to_thread`)."""
    return compare(measure(samples, sample_rate), usual)


def departure(name: str, value: float | None, reference: float | None) -> float | None:
    """How far `value` sits from `reference`, in the cue's own tolerance (beyond +-1 the word
    is "higher" or "lower"); None when either is missing. The web page's cue chart draws it."""
    if value is None or reference is None:
        return None
    if name == "pitch_hz":
        if value <= 0 or reference <= 0:
            return None
        diff = 12 * np.log2(value / reference)
    elif name == "speech_rate":
        if reference <= 0:
            return None
        diff = value / reference - 1
    else:
        diff = value - reference
    return float(diff / _TOLERANCE[name])


def _word(name: str, value: float | None, reference: float | None) -> Word | None:
    off = departure(name, value, reference)
    if off is None:
        return None
    if off > 1:
        return "higher"
    if off < -1:
        return "lower"
    return "typical"


def _pauses(speech: np.ndarray) -> tuple[float | None, float | None, float]:
    """(pause share, longest pause s, speech s) between the first and the last speech frame."""
    where = np.flatnonzero(speech)
    if where.size == 0:
        return None, None, 0.0
    inside = speech[where[0] : where[-1] + 1]
    frame_s = _HOP / SR
    gaps, run = [], 0
    for is_speech in inside:
        if is_speech:
            if run:
                gaps.append(run)
            run = 0
        else:
            run += 1
    pauses = [g * frame_s for g in gaps if g * frame_s >= _MIN_PAUSE_S]
    span = len(inside) * frame_s
    return sum(pauses) / span, max(pauses, default=0.0), float(inside.sum()) * frame_s


def _nuclei(db: np.ndarray, voiced: np.ndarray) -> int:
    """Syllable-like nuclei: prominent peaks of the smoothed energy envelope in voiced frames."""
    from scipy.signal import find_peaks

    kernel = np.hanning(7)  # ~70 ms smoothing
    envelope = np.convolve(db, kernel / kernel.sum(), mode="same")
    peaks, _ = find_peaks(
        envelope, prominence=_NUCLEUS_DB, distance=max(1, int(_MIN_SYLLABLE_S * SR / _HOP))
    )
    return int(voiced[peaks].sum())

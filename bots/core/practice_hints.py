"""Practice mode's hint: which one voice cue to move to sound more like the tone aimed for.

Each practice tone has a profile: how its cues move away from the same speaker's neutral voice,
measured on real acted speech (PROFILES). An attempt's cues are read against the speaker's
reference, and the hint names the cue furthest from the target's profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from inference.cues import NOTICEABLE, Cues

# The tones practice asks for, in the order a summary lists them (only those the model knows).
PRACTICE_TONES = ("neutral", "calm", "happy", "sad", "angry", "surprised")

# How each tone's voice cues move away from the same speaker's neutral voice: the median over
# RAVDESS actors 1-16 (both intensities, 64 neutral and 128 clips per other tone), measured by
# `python bench/practice_profiles.py`. Pitch in semitones, range in semitones, loudness in dB,
# speech rate as a relative change. Pause share is left out: one-sentence acted clips have no
# pauses (it measured 0 for every tone), so it cannot tell tones apart here.
PROFILES: dict[str, dict[str, float]] = {
    "neutral": {"pitch_hz": 0.0, "pitch_range_st": 0.0, "loudness_db": 0.0, "speech_rate": 0.0},
    "calm": {
        "pitch_hz": -0.28,
        "pitch_range_st": -1.55,
        "loudness_db": -2.78,
        "speech_rate": -0.17,
    },
    "happy": {"pitch_hz": 5.19, "pitch_range_st": 1.29, "loudness_db": 8.52, "speech_rate": -0.02},
    "sad": {"pitch_hz": 2.11, "pitch_range_st": -0.84, "loudness_db": 0.25, "speech_rate": -0.06},
    "angry": {"pitch_hz": 6.25, "pitch_range_st": 2.24, "loudness_db": 15.19, "speech_rate": -0.13},
    "surprised": {
        "pitch_hz": 5.06,
        "pitch_range_st": 4.41,
        "loudness_db": 8.01,
        "speech_rate": 0.0,
    },
}
HINT_CUES = ("pitch_hz", "pitch_range_st", "loudness_db", "speech_rate")


@dataclass(frozen=True)
class Hint:
    """The one cue to move, and which way: ("pitch_range_st", "higher") = a wider pitch range."""

    cue: str
    direction: Literal["higher", "lower"]


def cue_move(name: str, value: float | None, reference: float | None) -> float | None:
    """How far a cue sits from a reference, in PROFILES' units (None when either is missing)."""
    if value is None or reference is None:
        return None
    if name == "pitch_hz":
        return 12 * math.log2(value / reference) if value > 0 and reference > 0 else None
    if name == "speech_rate":
        return value / reference - 1 if reference > 0 else None
    return value - reference


def hint_for(cues: Cues | None, target: str) -> Hint | None:
    """The cue whose move would bring the attempt closest to the target tone's profile.

    Each cue's gap (the target's move minus the attempt's, both from the speaker's reference:
    their own usual voice under /baseline, else typical voices of that pitch) is counted in the
    steps a listener notices (inference.cues.NOTICEABLE); closing the largest gap shortens the
    distance most. None when every gap is under one step, or nothing could be measured.
    """
    if cues is None or target not in PROFILES:
        return None
    best: tuple[float, str] | None = None
    for name in HINT_CUES:
        cue = getattr(cues, name)
        move = cue_move(name, cue.value, cue.usual)
        if move is None:
            continue
        gap = (PROFILES[target][name] - move) / NOTICEABLE[name]
        if best is None or abs(gap) > abs(best[0]):
            best = (gap, name)
    if best is None or abs(best[0]) < 1.0:
        return None
    return Hint(best[1], "higher" if best[0] > 0 else "lower")

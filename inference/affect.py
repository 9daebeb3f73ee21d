"""An answer's place on the valence/arousal plane, for any reader of emotions (voice, face).

Each canonical label has one documented position (`inference.labels.AFFECT`, Russell's
circumplex: valence unpleasant -1 .. +1 pleasant, arousal calm -1 .. +1 excited):

| label     | valence | arousal |
|-----------|---------|---------|
| neutral   |  0.0    |  0.0    |
| calm      |  0.4    | -0.6    |
| happy     |  0.8    |  0.5    |
| sad       | -0.7    | -0.5    |
| angry     | -0.6    |  0.8    |
| fearful   | -0.7    |  0.6    |
| disgust   | -0.7    |  0.3    |
| surprised |  0.3    |  0.8    |
| bored     | -0.3    | -0.7    |
| other     |  0.0    |  0.0    |

A reading's place is the expected position over its probabilities. Labels are first mapped onto
the canonical set (`to_canonical`), so a face model's "fear" or "surprise" lands where the voice
model's "fearful" and "surprised" do, and voice and face can be compared or fused on one plane.
"""

from __future__ import annotations

from collections.abc import Mapping

from inference.labels import AFFECT, to_canonical


def valence_arousal(probabilities: Mapping[str, float]) -> tuple[float, float]:
    """The probability-weighted (valence, arousal) of a reading, each in -1 .. +1.

    Probabilities need not sum to one (they are normalised); labels may be any model's own
    ("fear", "生气/angry"): unknown ones count as "other", at the centre. An empty or all-zero
    reading sits at the centre.
    """
    total = sum(max(0.0, float(p)) for p in probabilities.values())
    if total <= 0:
        return 0.0, 0.0
    valence = arousal = 0.0
    for label, p in probabilities.items():
        weight = max(0.0, float(p)) / total
        point = AFFECT[label] if label in AFFECT else AFFECT[to_canonical(label)]
        valence += weight * point.valence
        arousal += weight * point.arousal
    return round(valence, 4), round(arousal, 4)


def quadrant(valence: float, arousal: float, dead_zone: float = 0.1) -> str:
    """upbeat / relaxed / tense / low, or neutral near the centre."""
    if abs(valence) < dead_zone and abs(arousal) < dead_zone:
        return "neutral"
    if valence >= 0:
        return "upbeat" if arousal >= 0 else "relaxed"
    return "tense" if arousal >= 0 else "low"

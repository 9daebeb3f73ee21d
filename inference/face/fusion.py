"""Voice and face as one reading on the valence/arousal plane, or a plain "they disagree".

Each side's probabilities (canonical labels) are placed on the plane by the one table of
positions (inference.labels.AFFECT, through inference.affect.valence_arousal) and mixed, weighted by each side's
confidence: the fused probabilities are the weighted mean of both sides' probabilities, and the
fused point is their place, which is the weighted mean of the two points. When the two points lie
farther apart than DISAGREE_DISTANCE, the answer says the voice and the face disagree rather than
averaging a happy face and a sad voice into a neutral middle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inference.affect import quadrant, valence_arousal
from inference.face.reading import FaceReading

# On the plane's [-1, 1] axes: happy and sad lie 1.8 apart, happy and angry 1.43, sad and angry
# 1.30, calm and angry 1.72; calm and happy (1.17), calm and sad (1.10) and anything against
# neutral (at most 0.94) do not count. Probability-weighted points lie nearer the middle, so an
# unsure side rarely reaches it.
DISAGREE_DISTANCE = 1.2


@dataclass(frozen=True)
class FusedReading:
    """Voice and face together: the likeliest label of the mixed probabilities and its place."""

    label: str
    confidence: float
    valence: float
    arousal: float
    quadrant: str
    disagree: bool
    distance: float
    voice_weight: float
    face_weight: float

    def to_json(self) -> dict[str, Any]:
        """The `fused` object of `classify --json` and the web answer."""
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "valence": round(self.valence, 4),
            "arousal": round(self.arousal, 4),
            "quadrant": self.quadrant,
            "disagree": self.disagree,
            "distance": round(self.distance, 4),
            "voice_weight": round(self.voice_weight, 4),
            "face_weight": round(self.face_weight, 4),
        }


def fuse(
    voice_probabilities: Mapping[str, float], voice_confidence: float, face: FaceReading
) -> FusedReading:
    """One reading from both sides; with no face seen it is the voice's own."""
    voice_weight = max(voice_confidence, 0.0)
    face_weight = face.confidence if face.found else 0.0
    total = voice_weight + face_weight
    if total == 0:  # nothing to weigh: the sides there are count the same
        voice_weight, face_weight = 1.0, (1.0 if face.found else 0.0)
        total = voice_weight + face_weight
    mixed: dict[str, float] = {}
    for side, weight in ((voice_probabilities, voice_weight), (face.probabilities, face_weight)):
        for label, p in side.items():
            mixed[label] = mixed.get(label, 0.0) + weight * p / total
    best = max(mixed, key=mixed.__getitem__)
    valence, arousal = valence_arousal(mixed)
    distance = 0.0
    if face.found:
        heard, seen = valence_arousal(voice_probabilities), valence_arousal(face.probabilities)
        distance = math.dist(heard, seen)
    return FusedReading(
        label=best,
        confidence=mixed[best],
        valence=valence,
        arousal=arousal,
        quadrant=quadrant(valence, arousal),
        disagree=distance > DISAGREE_DISTANCE,
        distance=distance,
        voice_weight=voice_weight / total,
        face_weight=face_weight / total,
    )

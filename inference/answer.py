"""The platform-neutral answer: what the tone of a note sounds like, how sure, and how it moved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from inference.cues import Cues
from inference.labels import affect_of


@dataclass(frozen=True)
class Segment:
    """One stretch of a long note and how its tone sounded.

    `confidence` is the mean probability of `label` over the stretch's windows; `not_sure` is
    set when it is below the answer's threshold, and renderers then word the stretch as a guess.
    """

    start_s: float
    end_s: float
    label: str
    confidence: float
    not_sure: bool = False


@dataclass(frozen=True)
class Prediction:
    """One analysed note.

    `not_sure` is set when `confidence` is below the threshold; renderers then name the two
    likeliest readings (`top[:2]`) instead of claiming one.
    """

    label: str
    confidence: float
    probabilities: dict[str, float]
    top: list[tuple[str, float]]
    valence: float
    arousal: float
    not_sure: bool
    duration_s: float
    model: str
    timeline: list[Segment] = field(default_factory=list)
    # The voice cues behind the tone (pitch, loudness, rate, pauses); None when not measured.
    cues: Cues | None = None
    # Seconds of speech the speech detector heard in the note; None when it did not listen.
    speech_s: float | None = None
    # The note's pooled encoder embedding (models that embed), for updating a speaker baseline;
    # never serialised, never stored as such.
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    # The model's own probabilities when a person's corrections moved them (inference.personal);
    # None when nothing moved them. What a later correction of this note is fitted against.
    unadjusted: dict[str, float] | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (the CLI's and the web API's answer format)."""
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "not_sure": self.not_sure,
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "top": [{"label": k, "probability": round(v, 4)} for k, v in self.top],
            "valence": self.valence,
            "arousal": self.arousal,
            "duration_s": round(self.duration_s, 3),
            "speech_s": round(self.speech_s, 2) if self.speech_s is not None else None,
            "model": self.model,
            "timeline": [
                {
                    "start_s": round(s.start_s, 2),
                    "end_s": round(s.end_s, 2),
                    "label": s.label,
                    "confidence": round(s.confidence, 4),
                    "not_sure": s.not_sure,
                }
                for s in self.timeline
            ],
            # Every key always, null-valued where a cue was not (or could not be) measured.
            "cues": self.cues.to_json() if self.cues is not None else Cues.empty_json(),
        }


def make_prediction(
    probabilities: Mapping[str, float],
    *,
    duration_s: float,
    model: str,
    not_sure_below: float,
    timeline: Sequence[Segment] = (),
    embedding: np.ndarray | None = None,
    cues: Cues | None = None,
    speech_s: float | None = None,
    unadjusted: Mapping[str, float] | None = None,
) -> Prediction:
    """Build the answer from canonical probabilities (normalised here to sum to one)."""
    total = sum(probabilities.values())
    if total <= 0:
        raise ValueError("probabilities must have a positive sum")
    probs = {label: float(p) / total for label, p in probabilities.items()}
    ranked = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)
    label, confidence = ranked[0]
    point = affect_of(probs)
    return Prediction(
        label=label,
        confidence=confidence,
        probabilities=probs,
        top=ranked[:3],
        valence=point.valence,
        arousal=point.arousal,
        not_sure=confidence < not_sure_below,
        duration_s=duration_s,
        model=model,
        timeline=list(timeline),
        embedding=embedding,
        cues=cues,
        speech_s=speech_s,
        unadjusted=dict(unadjusted) if unadjusted is not None else None,
    )

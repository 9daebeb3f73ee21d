"""The canonical emotion labels, and the one table that maps every dataset's and model's labels onto them.

Summaries, feedback and training mean the same thing whatever model runs, because everything is
translated here, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CANONICAL_LABELS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
    "bored",
    "other",
)


@dataclass(frozen=True)
class AffectPoint:
    """A place on Russell's circumplex: valence (unpleasant -1 .. +1 pleasant), arousal (calm -1 .. +1 excited)."""

    valence: float
    arousal: float


# Positions follow the usual circumplex placements (Russell 1980; Scherer 2005), rounded.
AFFECT: Mapping[str, AffectPoint] = {
    "neutral": AffectPoint(0.0, 0.0),
    "calm": AffectPoint(0.4, -0.6),
    "happy": AffectPoint(0.8, 0.5),
    "sad": AffectPoint(-0.7, -0.5),
    "angry": AffectPoint(-0.6, 0.8),
    "fearful": AffectPoint(-0.7, 0.6),
    "disgust": AffectPoint(-0.7, 0.3),
    "surprised": AffectPoint(0.3, 0.8),
    "bored": AffectPoint(-0.3, -0.7),
    "other": AffectPoint(0.0, 0.0),
}

# One table per dataset or model family: their own label (lower-cased) -> canonical label.
SCHEMES: Mapping[str, Mapping[str, str]] = {
    "ravdess": {
        "neutral": "neutral",
        "calm": "calm",
        "happy": "happy",
        "sad": "sad",
        "angry": "angry",
        "fearful": "fearful",
        "disgust": "disgust",
        "surprised": "surprised",
        # RAVDESS file-name emotion codes
        "01": "neutral",
        "02": "calm",
        "03": "happy",
        "04": "sad",
        "05": "angry",
        "06": "fearful",
        "07": "disgust",
        "08": "surprised",
    },
    # nEMO (Christop 2024), Polish, acted: the shared copy's metadata.csv labels.
    "nemo": {
        "anger": "angry",
        "fear": "fearful",
        "happiness": "happy",
        "neutral": "neutral",
        "sadness": "sad",
        "surprised": "surprised",
    },
    # Korean emotional speech (emotiontts open database): the shared copy's labels.
    "korean": {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry"},
    # URDU (Latif et al. 2018), evaluation only: the shared copy's folder names.
    "urdu": {"angry": "angry", "happy": "happy", "neutral": "neutral", "sad": "sad"},
    "emodb": {
        "anger": "angry",
        "boredom": "bored",
        "disgust": "disgust",
        "fear": "fearful",
        "happiness": "happy",
        "neutral": "neutral",
        "sadness": "sad",
        # EmoDB file-name letters (German initials)
        "w": "angry",
        "l": "bored",
        "e": "disgust",
        "a": "fearful",
        "f": "happy",
        "n": "neutral",
        "t": "sad",
    },
    "crema-d": {
        "ang": "angry",
        "dis": "disgust",
        "fea": "fearful",
        "hap": "happy",
        "neu": "neutral",
        "sad": "sad",
    },
    "tess": {
        "angry": "angry",
        "disgust": "disgust",
        "fear": "fearful",
        "happy": "happy",
        "neutral": "neutral",
        "ps": "surprised",
        "pleasant_surprise": "surprised",
        "pleasant_surprised": "surprised",
        "sad": "sad",
    },
    # IEMOCAP's 4-class convention (SUPERB ER): excited is merged into happy.
    "iemocap": {
        "neu": "neutral",
        "hap": "happy",
        "exc": "happy",
        "ang": "angry",
        "sad": "sad",
        "neutral": "neutral",
        "happy": "happy",
        "excited": "happy",
        "angry": "angry",
        "sadness": "sad",
        "fru": "other",
        "sur": "surprised",
        "fea": "fearful",
        "dis": "disgust",
        "oth": "other",
        "xxx": "other",
    },
    "emotion2vec": {
        "angry": "angry",
        "disgusted": "disgust",
        "fearful": "fearful",
        "happy": "happy",
        "neutral": "neutral",
        "other": "other",
        "sad": "sad",
        "surprised": "surprised",
        "<unk>": "other",
        "unknown": "other",
    },
    # AI-Hub Korean emotional dialogue, 6 classes (anger, sadness, anxiety, hurt, embarrassment, joy).
    "aihub6": {
        "분노": "angry",
        "슬픔": "sad",
        "불안": "fearful",
        "상처": "sad",
        "당황": "surprised",
        "기쁨": "happy",
        "anger": "angry",
        "sadness": "sad",
        "anxiety": "fearful",
        "hurt": "sad",
        "embarrassment": "surprised",
        "joy": "happy",
    },
    # AI-Hub Korean speech for emotion classification, 7 classes.
    "aihub7": {
        "분노": "angry",
        "슬픔": "sad",
        "혐오": "disgust",
        "공포": "fearful",
        "행복": "happy",
        "기쁨": "happy",
        "중립": "neutral",
        "놀람": "surprised",
        "angry": "angry",
        "anger": "angry",
        "sadness": "sad",
        "sad": "sad",
        "disgust": "disgust",
        "fear": "fearful",
        "happiness": "happy",
        "happy": "happy",
        "neutral": "neutral",
        "surprise": "surprised",
    },
    "kesdy18": {
        "neutral": "neutral",
        "happy": "happy",
        "sad": "sad",
        "angry": "angry",
        "중립": "neutral",
        "기쁨": "happy",
        "행복": "happy",
        "슬픔": "sad",
        "분노": "angry",
    },
}

# Labels a model may use that no scheme names; matched after lower-casing and taking the part
# after a "/" (emotion2vec writes "生气/angry").
_ALIASES: Mapping[str, str] = {
    **{label: label for label in CANONICAL_LABELS},
    "neu": "neutral",
    "hap": "happy",
    "happiness": "happy",
    "joy": "happy",
    "exc": "happy",
    "excited": "happy",
    "ang": "angry",
    "anger": "angry",
    "sadness": "sad",
    "fea": "fearful",
    "fear": "fearful",
    "dis": "disgust",
    "disgusted": "disgust",
    "sur": "surprised",
    "surprise": "surprised",
    "ps": "surprised",
    "bor": "bored",
    "boredom": "bored",
    "cal": "calm",
}


class UnknownLabel(ValueError):
    """A label that the named scheme does not know."""


def to_canonical(label: str, scheme: str | None = None) -> str:
    """Map one dataset or model label onto the canonical set.

    With a scheme the mapping is strict (an unknown label raises UnknownLabel); without one,
    common aliases are recognised and anything else becomes "other".
    """
    key = label.strip().lower()
    if scheme is not None:
        table = SCHEMES[scheme]
        if key not in table:
            raise UnknownLabel(f"{label!r} is not a {scheme} label")
        return table[key]
    if "/" in key:
        key = key.rsplit("/", 1)[1]
    return _ALIASES.get(key, "other")


def canonical_columns(native_labels: Sequence[str], scheme: str | None = None) -> tuple[str, ...]:
    """The canonical output columns for a model whose outputs are `native_labels`, in canonical order."""
    mapped = {to_canonical(label, scheme) for label in native_labels}
    return tuple(label for label in CANONICAL_LABELS if label in mapped)


def affect_of(probabilities: Mapping[str, float]) -> AffectPoint:
    """The probability-weighted place of an answer on the valence/arousal plane."""
    total = sum(probabilities.values()) or 1.0
    valence = sum(p * AFFECT[label].valence for label, p in probabilities.items()) / total
    arousal = sum(p * AFFECT[label].arousal for label, p in probabilities.items()) / total
    return AffectPoint(round(valence, 4), round(arousal, 4))

"""The reply to an analysed note or a failure, as plain text in the person's language.

Made once here; Telegram, Discord and the web page only decorate it.
"""

from __future__ import annotations

from collections.abc import Mapping

from bots.i18n import EMOJI, label_name, percent, t
from inference.answer import Prediction, Segment
from inference.cues import Cues
from inference.errors import VoiceMoodError

# The order cues are named in: when the line must be shortened, the last ones go first.
CUE_ORDER = ("pitch_hz", "loudness_db", "speech_rate", "pitch_range_st", "pause_share")


def render_prediction(
    prediction: Prediction, lang: str = "en", words: Mapping[str, str] | None = None
) -> str:
    """A few short lines: the tone, how sure, (for long notes) how it moved, and the voice cues.

    `words`: the speaker's own names for tones (/words), used in place of the usual ones.
    """
    if prediction.not_sure and len(prediction.top) >= 2:
        (first, p1), (second, p2) = prediction.top[:2]
        lines = [
            t(
                lang,
                "not_sure",
                first=label_name(lang, first, words),
                p1=percent(p1),
                second=label_name(lang, second, words),
                p2=percent(p2),
            )
        ]
    else:
        lines = [
            t(
                lang,
                "answer",
                emoji=EMOJI.get(prediction.label, "🤔"),
                label=label_name(lang, prediction.label, words),
                confidence=percent(prediction.confidence),
            )
        ]
    if len(prediction.timeline) > 1:
        steps = " → ".join(_step(seg, lang, words) for seg in prediction.timeline)
        lines.append(t(lang, "timeline", steps=steps))
    cues = render_cues(prediction.cues, lang, limit=len("\n".join(lines)))
    if cues:
        lines.append(cues)
    return "\n".join(lines)


def render_cues(cues: Cues | None, lang: str = "en", *, limit: int | None = None) -> str | None:
    """One literal line on how the voice departs from its reference, at most `limit` characters.

    Cues named last are left out until the line fits; None when nothing was measured or fits.
    """
    if cues is None or cues.against is None:
        return None
    words = [(name, getattr(cues, name).word) for name in CUE_ORDER]
    if all(word is None for _, word in words):
        return None
    items = [t(lang, f"cue.{name}.{word}") for name, word in words if word in ("higher", "lower")]
    if not items:
        return t(lang, f"cues.{cues.against}_same")
    while items:
        line = t(lang, f"cues.{cues.against}", items=", ".join(items))
        if limit is None or len(line) <= limit:
            return line
        items.pop()
    return None


def _step(seg: Segment, lang: str, words: Mapping[str, str] | None = None) -> str:
    """One stretch of the timeline; an unsure one is worded as a guess, not as a plain label."""
    clock, label = _clock(seg.start_s), label_name(lang, seg.label, words)
    if seg.not_sure:
        return t(lang, "timeline_unsure", clock=clock, label=label)
    return f"{clock} {EMOJI.get(seg.label, '')} {label}"


def render_error(error: VoiceMoodError, lang: str = "en") -> str:
    """The polite sentence for a typed error, translated by its code."""
    params = dict(error.params)
    if "limit_s" in params:
        params.setdefault("limit_min", round(params["limit_s"] / 60, 1))
    try:
        return t(lang, f"error.{error.code}", **params)
    except (KeyError, ValueError, IndexError):
        return t(lang, "error.error")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"

"""The reply to an analysed note or a failure, as plain text in the person's language.

Made once here; Telegram, Discord and the web page only decorate it.
"""

from __future__ import annotations

from bots.i18n import EMOJI, label_name, percent, t
from inference.answer import Prediction, Segment
from inference.errors import VoiceMoodError


def render_prediction(prediction: Prediction, lang: str = "en") -> str:
    """One or two short lines: the tone, how sure, and (for long notes) how it moved."""
    if prediction.not_sure and len(prediction.top) >= 2:
        (first, p1), (second, p2) = prediction.top[:2]
        lines = [
            t(
                lang,
                "not_sure",
                first=label_name(lang, first),
                p1=percent(p1),
                second=label_name(lang, second),
                p2=percent(p2),
            )
        ]
    else:
        lines = [
            t(
                lang,
                "answer",
                emoji=EMOJI.get(prediction.label, "🤔"),
                label=label_name(lang, prediction.label),
                confidence=percent(prediction.confidence),
            )
        ]
    if len(prediction.timeline) > 1:
        steps = " → ".join(_step(seg, lang) for seg in prediction.timeline)
        lines.append(t(lang, "timeline", steps=steps))
    return "\n".join(lines)


def _step(seg: Segment, lang: str) -> str:
    """One stretch of the timeline; an unsure one is worded as a guess, not as a plain label."""
    clock, label = _clock(seg.start_s), label_name(lang, seg.label)
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

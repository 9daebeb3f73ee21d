"""A person's own history: how many of their notes sounded each tone, day by day, and its chart.

Platform-neutral like bots.summary: the caption comes from bots.i18n and the chart is PNG bytes.
Colours come from the one palette (bots.palette) and every tone is also named in words, the
person's own words where they chose some (/words).
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bots.i18n import EMOJI, label_name, percent, t
from bots.palette import tone_colour

# The font rule (NanumGothic for Hangul) is bots.summary's; shared, not copied.
from bots.summary import CHART_DPI, _font_family
from inference.labels import CANONICAL_LABELS

# Landscape, phone-friendly: 1200 x 900 pixels.
HISTORY_SIZE_IN = (8.0, 6.0)
_CHART_LOCK = threading.Lock()  # rc_context changes matplotlib's global settings while it draws


@dataclass(frozen=True)
class ToneHistory:
    """One person's notes over a period: per day, how many sounded each tone."""

    period: str  # already translated, e.g. "this week"
    days: tuple[date, ...]
    counts: Mapping[date, Mapping[str, int]]

    @property
    def total(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for day in self.days:
            total.update(self.counts.get(day, {}))
        return total

    @property
    def count(self) -> int:
        return sum(self.total.values())


def history_of(
    labelled: Sequence[tuple[datetime, str]], period: str, first: date, last: date
) -> ToneHistory:
    """Count (time, label) pairs per UTC day from `first` to `last`, both included."""
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    counts: dict[date, Counter[str]] = {}
    for at, label in labelled:
        counts.setdefault(at.date(), Counter())[label] += 1
    return ToneHistory(period, days, counts)


def render_history_text(history: ToneHistory, lang: str, words: Mapping[str, str]) -> str:
    """The caption: the period, how many notes, and the tones heard most."""
    if history.count == 0:
        return t(lang, "history.empty", period=history.period)
    shares = ", ".join(
        f"{EMOJI.get(label, '')} {label_name(lang, label, words)} {percent(n / history.count)}"
        for label, n in history.total.most_common(4)
    )
    return t(lang, "history.caption", period=history.period, count=history.count, shares=shares)


def render_history_chart(history: ToneHistory, lang: str, words: Mapping[str, str]) -> bytes:
    """A PNG of stacked bars, a bar per day and a colour per tone, each tone named in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    with _CHART_LOCK:
        return _render(history, lang, words)


def _render(history: ToneHistory, lang: str, words: Mapping[str, str]) -> bytes:
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=HISTORY_SIZE_IN, dpi=CHART_DPI, layout="constrained")
    with matplotlib.rc_context({"font.family": _font_family(), "font.size": 11}):
        ax = fig.subplots()
        heard = [label for label in CANONICAL_LABELS if history.total[label]]
        xs = list(range(len(history.days)))
        bottoms = [0] * len(xs)
        for label in heard:
            heights = [history.counts.get(day, {}).get(label, 0) for day in history.days]
            ax.bar(
                xs,
                heights,
                bottom=bottoms,
                color=tone_colour(label),
                edgecolor="white",
                linewidth=0.6,
                label=label_name(lang, label, words),
            )
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        step = max(1, len(xs) // 10)
        ax.set_xticks(xs[::step], [d.strftime("%m-%d") for d in history.days[::step]], fontsize=9)
        ax.set_ylabel(t(lang, "history.axis"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # notes come whole
        if heard:
            handles, names = ax.get_legend_handles_labels()  # listed top of the stack first
            ax.legend(
                handles[::-1],
                names[::-1],
                loc="upper left",
                bbox_to_anchor=(1.0, 1.0),
                frameon=False,
            )
        ax.spines[["top", "right"]].set_visible(False)
        fig.suptitle(t(lang, "history.title", period=history.period), fontsize=14)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()

"""/history's chart: a stacked bar per day, a colour per tone, each tone named in the legend.

The counts are bots.history's (a ToneHistory); colours come from the one palette (bots.palette)
and every tone is also named in words, the person's own words where they chose some (/words).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bots.charts.canvas import CHART_DPI, render_png
from bots.i18n import label_name, t
from bots.palette import tone_colour
from inference.labels import CANONICAL_LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bots.history import ToneHistory

# Landscape, phone-friendly: 1200 x 900 pixels.
HISTORY_SIZE_IN = (8.0, 6.0)
_FONT_SIZE = 11


def render_history_chart(history: ToneHistory, lang: str, words: Mapping[str, str]) -> bytes:
    """A PNG of stacked bars, a bar per day and a colour per tone, each tone named in the legend."""
    return render_png(lambda: _draw(history, lang, words), font_size=_FONT_SIZE)


def _draw(history: ToneHistory, lang: str, words: Mapping[str, str]) -> Figure:
    """The figure; drawn inside render_png, which sets the fonts."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=HISTORY_SIZE_IN, dpi=CHART_DPI, layout="constrained")
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
    return fig

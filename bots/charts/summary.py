"""/summary's chart: the tone shares, the tone over time and the tone map, on one portrait PNG.

The numbers are bots.summary's (a MoodSummary); this module only draws them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bots.charts.canvas import CHART_DPI, render_png, styled
from bots.charts.labels import Dot, Word, place_words
from bots.i18n import label_name, t
from bots.palette import tone_colour
from inference.labels import AFFECT, CANONICAL_LABELS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from bots.summary import MoodSummary

# Phone-friendly portrait chart: 1080 x 1440 pixels.
CHART_SIZE_IN = (7.2, 9.6)
_FONT_SIZE = 12
_MEMBER_DOT = 80  # scatter sizes, in points squared
_REFERENCE_DOT = 30
_EVERYONE_STAR = 320
_MAX_MEMBERS = 12


def render_chart(summary: MoodSummary, lang: str = "en") -> bytes:
    """A portrait PNG (1080 x 1440) with the tone shares, the tone over time and the tone map."""
    return render_png(lambda: draw_chart(summary, lang), font_size=_FONT_SIZE)


def draw_chart(summary: MoodSummary, lang: str = "en") -> Figure:
    """The chart as a laid-out matplotlib Figure (render_chart saves it; tests read its artists)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    with styled(_FONT_SIZE):
        shares_ax, trend_ax, plane_ax = fig.subplots(
            3, 1, gridspec_kw={"height_ratios": [1.0, 0.8, 1.4]}
        )
        _draw_shares(shares_ax, summary, lang)
        _draw_trend(trend_ax, summary, lang)
        _draw_plane(plane_ax, summary, lang)
        fig.suptitle(
            t(lang, "chart.title", period=summary.period, count=summary.count), fontsize=14
        )
        # Words are placed once the layout is final, against the text as it will be drawn.
        fig.draw_without_rendering()
        _name_plane(plane_ax, summary, lang)
        fig.set_layout_engine("none")
        fig.draw_without_rendering()
    return fig


def _draw_shares(ax: Axes, summary: MoodSummary, lang: str) -> None:
    labels = [label for label in CANONICAL_LABELS if label in summary.shares][::-1]
    labels.sort(key=lambda label: summary.shares[label])
    values = [100 * summary.shares[label] for label in labels]
    ax.barh(
        [label_name(lang, label) for label in labels],
        values,
        color=[tone_colour(label) for label in labels],
        edgecolor="#333333",  # keeps the pale tones (surprised's yellow) visible on white
        linewidth=0.6,
    )
    for y, v in enumerate(values):
        ax.text(v + 1, y, f"{v:.0f}%", va="center")
    ax.set_xlim(0, max(values, default=0) * 1.2 + 5)
    ax.set_title(t(lang, "chart.shares"))
    ax.spines[["top", "right"]].set_visible(False)


def _draw_trend(ax: Axes, summary: MoodSummary, lang: str) -> None:
    """Valence and arousal on a real time axis, so each date or hour is one tick."""
    import matplotlib.dates as mdates

    times = [p.at for p in summary.trend]
    ax.axhline(0, color="#bbbbbb", linewidth=0.8)
    # Black and grey, not tone colours: these lines are measures, not tones.
    ax.plot(
        times,  # type: ignore[arg-type]
        [p.valence for p in summary.trend],
        marker="o",
        color="#000000",
        label=t(lang, "chart.valence_short"),
    )
    ax.plot(
        times,  # type: ignore[arg-type]
        [p.arousal for p in summary.trend],
        marker="s",
        linestyle="--",
        color="#777777",
        label=t(lang, "chart.arousal_short"),
    )
    ax.set_ylim(-1, 1)
    if times:
        tz = times[0].tzinfo
        first, last = times[0], times[-1]
        if (last - first).total_seconds() >= 86400:
            days = (last.date() - first.date()).days + 1
            ax.xaxis.set_major_locator(mdates.DayLocator(interval=-(-days // 8), tz=tz))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d", tz=tz))
            pad = timedelta(hours=6)
        else:
            ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7, tz=tz))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=tz))
            # At least an hour wide, so ticks are minutes apart and no two read the same.
            pad = max(timedelta(minutes=10), (timedelta(hours=1) - (last - first)) / 2)
        ax.set_xlim(first - pad, last + pad)  # type: ignore[arg-type]
    ax.tick_params(axis="x", labelsize=9)
    ax.set_title(t(lang, "chart.over_time"))
    ax.legend(loc="lower left", fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _draw_plane(ax: Axes, summary: MoodSummary, lang: str) -> None:
    """Dots only: the words beside them are placed later, by _name_plane."""
    ax.axhline(0, color="#cccccc", linewidth=0.8, zorder=0)
    ax.axvline(0, color="#cccccc", linewidth=0.8, zorder=0)
    for label, point in _reference_points():
        ax.scatter(
            [point[0]],
            [point[1]],
            s=_REFERENCE_DOT,
            marker="D",
            facecolor="white",
            edgecolor=tone_colour(label),
            linewidth=1.5,
            zorder=2,
        )
    for member, (v, a) in _members(summary):
        ax.scatter(
            [v],
            [a],
            s=_MEMBER_DOT,
            color=tone_colour(summary.members[member]),
            edgecolor="#333333",
            linewidth=0.8,
            zorder=3,
        )
    ax.scatter(
        [summary.valence],
        [summary.arousal],
        s=_EVERYONE_STAR,
        color="#000000",
        edgecolor="white",
        marker="*",
        zorder=4,
    )
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(t(lang, "chart.valence"))
    ax.set_ylabel(t(lang, "chart.arousal"))
    ax.set_title(t(lang, "chart.plane"))


def _reference_points() -> list[tuple[str, tuple[float, float]]]:
    return [(label, (p.valence, p.arousal)) for label, p in AFFECT.items() if label != "other"]


def _members(summary: MoodSummary) -> list[tuple[str, tuple[float, float]]]:
    return list(summary.member_places.items())[:_MAX_MEMBERS]


def _name_plane(ax: Axes, summary: MoodSummary, lang: str) -> None:
    """Everyone's word first, then the members' names, then the reference tones' names."""
    everyone = (summary.valence, summary.arousal)
    dots = [
        *[Dot(place, _REFERENCE_DOT) for _, place in _reference_points()],
        *[Dot(place, _MEMBER_DOT) for _, place in _members(summary)],
        Dot(everyone, _EVERYONE_STAR),
    ]
    words = [
        Word(t(lang, "chart.everyone"), everyone, "#000000", 11),
        *[Word(_short(member), place, "#222222", 10) for member, place in _members(summary)],
        *[
            Word(label_name(lang, label), place, "#555555", 9)
            for label, place in _reference_points()
        ],
    ]
    place_words(ax, dots, words)


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"

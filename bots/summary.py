"""Group mood summaries: shares of each tone, each member's usual tone, the trend, and a chart.

Platform-neutral: the text comes from bots.i18n and the chart is PNG bytes that any adapter sends.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bots.i18n import EMOJI, label_name, percent, t
from bots.palette import tone_colour
from inference.labels import AFFECT, CANONICAL_LABELS, affect_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Phone-friendly portrait chart: 1080 x 1440 pixels.
CHART_SIZE_IN = (7.2, 9.6)
CHART_DPI = 150
_TREND_STEP = 0.15
_CHART_LOCK = threading.Lock()  # a valence change smaller than this is "about the same"


@dataclass(frozen=True)
class MoodNote:
    """One analysed note as a summary sees it."""

    at: datetime
    member: str
    label: str
    probabilities: Mapping[str, float]
    model: str = ""  # the model version that answered ("" when unknown)


@dataclass(frozen=True)
class TrendPoint:
    at: datetime
    valence: float
    arousal: float
    notes: int


@dataclass(frozen=True)
class MoodSummary:
    period: str  # already translated, e.g. "today" or "last 20 notes"
    count: int
    shares: dict[str, float]  # label -> share of notes, largest first
    members: dict[str, str]  # member -> their most frequent label
    member_places: dict[str, tuple[float, float]]  # member -> mean (valence, arousal)
    trend: list[TrendPoint]
    valence: float
    arousal: float
    # Model versions that answered, most notes first; more than one (a rolling upgrade, two
    # workers on different versions) and the summary says so: their tones may not compare.
    models: tuple[str, ...] = ()

    @property
    def trend_word(self) -> str:
        if len(self.trend) < 2:
            return "steady"
        half = len(self.trend) // 2
        first = sum(p.valence for p in self.trend[:half]) / half
        last = sum(p.valence for p in self.trend[half:]) / (len(self.trend) - half)
        if last - first > _TREND_STEP:
            return "up"
        if first - last > _TREND_STEP:
            return "down"
        return "steady"


def summarise(notes: Sequence[MoodNote], period: str, *, buckets: int = 8) -> MoodSummary:
    """Aggregate notes (any order) into a summary; `period` is the translated period name."""
    ordered = sorted(notes, key=lambda n: n.at)
    counts = Counter(n.label for n in ordered)
    shares = {label: c / len(ordered) for label, c in counts.most_common()} if ordered else {}
    by_member: dict[str, list[MoodNote]] = defaultdict(list)
    for note in ordered:
        by_member[note.member].append(note)
    members = {m: _usual_label(ns) for m, ns in by_member.items()}
    places = {m: _mean_place(ns) for m, ns in by_member.items()}
    valence, arousal = _mean_place(ordered) if ordered else (0.0, 0.0)
    return MoodSummary(
        period=period,
        count=len(ordered),
        shares=shares,
        members=members,
        member_places=places,
        trend=_trend(ordered, buckets),
        valence=valence,
        arousal=arousal,
        models=tuple(m for m, _ in Counter(n.model for n in ordered if n.model).most_common()),
    )


def render_summary_text(summary: MoodSummary, lang: str = "en") -> str:
    """A few short lines, fit for a chat message or a photo caption."""
    if summary.count == 0:
        return t(lang, "summary.empty", period=summary.period)
    shares = ", ".join(
        f"{EMOJI[label]} {label_name(lang, label)} {percent(share)}"
        for label, share in list(summary.shares.items())[:4]
    )
    members = ", ".join(
        f"{member} {EMOJI[label]} {label_name(lang, label)}"
        for member, label in list(summary.members.items())[:8]
    )
    lines = [
        t(lang, "summary.title", period=summary.period, count=summary.count),
        t(lang, "summary.shares", shares=shares),
        t(lang, "summary.members", members=members),
        t(lang, f"summary.trend.{summary.trend_word}"),
        t(
            lang,
            "summary.place",
            quadrant=t(lang, f"quadrant.{quadrant(summary.valence, summary.arousal)}"),
            valence=summary.valence,
            arousal=summary.arousal,
        ),
    ]
    if len(summary.models) > 1:
        models = ", ".join(summary.models)
        lines.append(t(lang, "summary.models", count=len(summary.models), models=models))
    return "\n".join(lines)


def quadrant(valence: float, arousal: float, dead_zone: float = 0.1) -> str:
    """upbeat / relaxed / tense / low, or neutral near the centre."""
    if abs(valence) < dead_zone and abs(arousal) < dead_zone:
        return "neutral"
    if valence >= 0:
        return "upbeat" if arousal >= 0 else "relaxed"
    return "tense" if arousal >= 0 else "low"


def render_chart(summary: MoodSummary, lang: str = "en") -> bytes:
    """A portrait PNG (1080 x 1440) with the tone shares, the tone over time and the tone map."""
    import matplotlib

    matplotlib.use("Agg")
    with _CHART_LOCK:  # rc_context changes matplotlib's global settings while it draws
        buffer = io.BytesIO()
        draw_chart(summary, lang).savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


def draw_chart(summary: MoodSummary, lang: str = "en") -> Figure:
    """The chart as a laid-out matplotlib Figure (render_chart saves it; tests read its artists)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = _font_family()
    fig = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    with matplotlib.rc_context({"font.family": family, "font.size": 12}):
        shares_ax, trend_ax, plane_ax = fig.subplots(
            3, 1, gridspec_kw={"height_ratios": [1.0, 0.8, 1.4]}
        )
        _draw_shares(shares_ax, summary, lang)
        _draw_trend(trend_ax, summary, lang)
        _draw_plane(plane_ax, summary, lang)
        fig.suptitle(
            t(lang, "chart.title", period=summary.period, count=summary.count), fontsize=14
        )
        # Names are placed once the layout is final, against the text as it will be drawn.
        fig.draw_without_rendering()
        _place_plane_labels(plane_ax, summary, lang)
        fig.set_layout_engine("none")
        fig.draw_without_rendering()
    return fig


def _usual_label(notes: Sequence[MoodNote]) -> str:
    """The member's most frequent label; ties go to the one heard with more total probability."""
    counts = Counter(n.label for n in notes)
    weight: dict[str, float] = defaultdict(float)
    for n in notes:
        weight[n.label] += n.probabilities.get(n.label, 0.0)
    return max(counts, key=lambda label: (counts[label], weight[label]))


def _mean_place(notes: Sequence[MoodNote]) -> tuple[float, float]:
    points = [affect_of(n.probabilities) for n in notes]
    return (
        round(sum(p.valence for p in points) / len(points), 4),
        round(sum(p.arousal for p in points) / len(points), 4),
    )


def _trend(ordered: Sequence[MoodNote], buckets: int) -> list[TrendPoint]:
    """Equal-count buckets in time order, so a busy hour does not hide a quiet one's mood."""
    if not ordered:
        return []
    size = max(1, -(-len(ordered) // buckets))
    points = []
    for i in range(0, len(ordered), size):
        chunk = ordered[i : i + size]
        valence, arousal = _mean_place(chunk)
        points.append(TrendPoint(chunk[len(chunk) // 2].at, valence, arousal, len(chunk)))
    return points


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


_MEMBER_DOT = 80  # scatter sizes, in points squared
_REFERENCE_DOT = 30
_EVERYONE_STAR = 320
_MAX_MEMBERS = 12


def _draw_plane(ax: Axes, summary: MoodSummary, lang: str) -> None:
    """Dots only: the words beside them are placed later, by _place_plane_labels."""
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


# Offsets tried for a label, nearest first: right, left, above, below, then the diagonals.
_DIRECTIONS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)]
_RADII_PT = [7, 14, 24, 38, 56]
_HA: dict[int, Literal["left", "center", "right"]] = {1: "left", 0: "center", -1: "right"}
_VA: dict[int, Literal["bottom", "center", "top"]] = {1: "bottom", 0: "center", -1: "top"}
_CANDIDATES = [((dx * r, dy * r), _HA[dx], _VA[dy]) for r in _RADII_PT for dx, dy in _DIRECTIONS]


def _place_plane_labels(ax: Axes, summary: MoodSummary, lang: str) -> None:
    """Names and tone words beside their dots, each nudged until it overlaps nothing.

    A small greedy search in the spirit of adjustText: every dot is an obstacle, labels are
    placed most important first, and each takes the nearest offset free of dots, earlier
    labels and the frame; a label that had to move far gets a thin leader line.
    """
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    dpi = ax.figure.dpi
    frame = ax.get_window_extent(renderer)
    taken = []
    for (x, y), size in [
        *[(p, _REFERENCE_DOT) for _, p in _reference_points()],
        *[(p, _MEMBER_DOT) for _, p in _members(summary)],
        ((summary.valence, summary.arousal), _EVERYONE_STAR),
    ]:
        cx, cy = ax.transData.transform((x, y))
        r = (size**0.5) / 2 * dpi / 72 + 1
        taken.append(_box(cx - r, cy - r, cx + r, cy + r))
    everyone = (t(lang, "chart.everyone"), (summary.valence, summary.arousal), "#000000", 11)
    members = [(_short(member), place, "#222222", 10) for member, place in _members(summary)]
    references = [
        (label_name(lang, label), place, "#555555", 9) for label, place in _reference_points()
    ]
    for text, (x, y), colour, size in [everyone, *members, *references]:
        note = ax.annotate(
            text,
            (x, y),
            textcoords="offset points",
            xytext=(0, 0),
            color=colour,
            fontsize=size,
            zorder=5,
        )
        best: tuple[float, int] | None = None
        for i, (offset, ha, va) in enumerate(_CANDIDATES):
            note.xyann = offset
            note.set_horizontalalignment(ha)
            note.set_verticalalignment(va)
            box = note.get_window_extent(renderer)
            clash = sum(_overlap(box, other) for other in taken)
            clash += box.width * box.height - _overlap(box, frame)
            if best is None or clash < best[0]:
                best = (clash, i)
            if clash == 0:
                break
        assert best is not None
        offset, ha, va = _CANDIDATES[best[1]]
        note.xyann = offset
        note.set_horizontalalignment(ha)
        note.set_verticalalignment(va)
        if (
            max(map(abs, offset)) > _RADII_PT[1]
        ):  # far from its dot: redrawn with a leader line to it
            note.remove()
            note = ax.annotate(
                text,
                (x, y),
                textcoords="offset points",
                xytext=offset,
                ha=ha,
                va=va,
                color=colour,
                fontsize=size,
                zorder=5,
                arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.6},
            )
        taken.append(note.get_window_extent(renderer))


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _box(x0: float, y0: float, x1: float, y1: float):  # type: ignore[no-untyped-def]
    from matplotlib.transforms import Bbox

    return Bbox([[x0, y0], [x1, y1]])


def _overlap(a, b) -> float:  # type: ignore[no-untyped-def]
    """Area shared by two display-space boxes (0 when apart)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)


@cache
def _font_family() -> list[str]:
    """NanumGothic (shipped by koreanize-matplotlib) first for Hangul, DejaVu Sans for the rest."""
    from matplotlib import font_manager

    # Found without importing the package: importing it rewrites matplotlib's global rcParams.
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return ["DejaVu Sans"]
    fonts = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    for name in ("NanumGothic.ttf", "NanumGothicBold.ttf"):
        font_manager.fontManager.addfont(str(fonts / name))
    return ["NanumGothic", "DejaVu Sans"]

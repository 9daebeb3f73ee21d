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
from datetime import datetime
from functools import cache
from pathlib import Path

from bots.i18n import EMOJI, label_name, percent, t
from inference.labels import AFFECT, CANONICAL_LABELS, affect_of

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
    return "\n".join(lines)


def quadrant(valence: float, arousal: float, dead_zone: float = 0.1) -> str:
    """upbeat / relaxed / tense / low, or neutral near the centre."""
    if abs(valence) < dead_zone and abs(arousal) < dead_zone:
        return "neutral"
    if valence >= 0:
        return "upbeat" if arousal >= 0 else "relaxed"
    return "tense" if arousal >= 0 else "low"


def render_chart(summary: MoodSummary, lang: str = "en") -> bytes:
    """A portrait PNG (1080 x 1440) with the tone shares, the mood over time and the mood plane."""
    import matplotlib

    matplotlib.use("Agg")
    with _CHART_LOCK:  # rc_context changes matplotlib's global settings while it draws
        return _render_chart(summary, lang)


def _render_chart(summary: MoodSummary, lang: str) -> bytes:
    import matplotlib
    from matplotlib.figure import Figure

    family = _font_family()
    fig = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI, layout="constrained")
    with matplotlib.rc_context({"font.family": family, "font.size": 12}):
        shares_ax, trend_ax, plane_ax = fig.subplots(
            3, 1, gridspec_kw={"height_ratios": [1.0, 0.8, 1.3]}
        )
        _draw_shares(shares_ax, summary, lang)
        _draw_trend(trend_ax, summary, lang)
        _draw_plane(plane_ax, summary, lang)
        fig.suptitle(
            t(lang, "summary.title", period=summary.period, count=summary.count), fontsize=14
        )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


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


def _draw_shares(ax, summary: MoodSummary, lang: str) -> None:  # type: ignore[no-untyped-def]
    labels = [label for label in CANONICAL_LABELS if label in summary.shares][::-1]
    labels.sort(key=lambda label: summary.shares[label])
    values = [100 * summary.shares[label] for label in labels]
    colors = [_colour(label) for label in labels]
    ax.barh([label_name(lang, label) for label in labels], values, color=colors)
    for y, v in enumerate(values):
        ax.text(v + 1, y, f"{v:.0f}%", va="center")
    ax.set_xlim(0, max(values, default=0) * 1.2 + 5)
    ax.set_title(t(lang, "chart.shares"))
    ax.spines[["top", "right"]].set_visible(False)


def _draw_trend(ax, summary: MoodSummary, lang: str) -> None:  # type: ignore[no-untyped-def]
    xs = list(range(len(summary.trend)))
    ax.axhline(0, color="#bbbbbb", linewidth=0.8)
    ax.plot(
        xs,
        [p.valence for p in summary.trend],
        marker="o",
        color="#2b8a3e",
        label=t(lang, "chart.valence_short"),
    )
    ax.plot(
        xs,
        [p.arousal for p in summary.trend],
        marker="s",
        color="#e8590c",
        label=t(lang, "chart.arousal_short"),
    )
    ax.set_ylim(-1, 1)
    ax.set_xticks(xs, [_tick(p.at, summary.trend) for p in summary.trend], fontsize=9)
    ax.set_title(t(lang, "chart.over_time"))
    ax.legend(loc="lower left", fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _draw_plane(ax, summary: MoodSummary, lang: str) -> None:  # type: ignore[no-untyped-def]
    ax.axhline(0, color="#cccccc", linewidth=0.8)
    ax.axvline(0, color="#cccccc", linewidth=0.8)
    for label, point in AFFECT.items():
        if label == "other":
            continue
        ax.text(
            point.valence,
            point.arousal,
            label_name(lang, label),
            color="#999999",
            fontsize=9,
            ha="center",
            va="center",
        )
    for member, (v, a) in list(summary.member_places.items())[:12]:
        ax.scatter([v], [a], s=60, color="#4dabf7", alpha=0.8)
        ax.annotate(member, (v, a), textcoords="offset points", xytext=(6, 6), fontsize=9)
    ax.scatter([summary.valence], [summary.arousal], s=260, color="#d6336c", marker="*", zorder=3)
    ax.annotate(
        t(lang, "chart.everyone"),
        (summary.valence, summary.arousal),
        textcoords="offset points",
        xytext=(8, -14),
        color="#d6336c",
        fontsize=10,
    )
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(t(lang, "chart.valence"))
    ax.set_ylabel(t(lang, "chart.arousal"))
    ax.set_title(t(lang, "chart.plane"))


def _tick(at: datetime, trend: Sequence[TrendPoint]) -> str:
    same_day = trend[0].at.date() == trend[-1].at.date()
    return at.strftime("%H:%M") if same_day else at.strftime("%m-%d")


def _colour(label: str) -> str:
    point = AFFECT[label]
    if point.valence > 0.1:
        return "#40c057"
    if point.valence < -0.1:
        return "#fa5252" if point.arousal > 0 else "#748ffc"
    return "#adb5bd"


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

"""Group mood summaries: shares of each tone, each member's usual tone, the trend, in words.

Platform-neutral: the text comes from bots.i18n; bots.charts.summary draws the chart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bots.i18n import EMOJI, label_name, percent, t
from inference.affect import quadrant
from inference.labels import affect_of

_TREND_STEP = 0.15  # a valence change smaller than this is "about the same"


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

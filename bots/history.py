"""A person's own history: how many of their notes sounded each tone, day by day, and its caption.

Platform-neutral like bots.summary: the caption comes from bots.i18n; the chart is drawn by
bots.charts.history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bots.i18n import EMOJI, label_name, percent, t


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

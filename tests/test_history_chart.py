"""A person's history: notes counted per day and tone, the caption, and the chart's PNG."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from PIL import Image

from bots.charts.history import render_history_chart
from bots.history import history_of, render_history_text


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_history_counts_each_day_of_the_period_and_leaves_out_none():
    labelled = [(_at(24), "angry"), (_at(24, 20), "happy"), (_at(30), "angry")]
    history = history_of(labelled, "this week", date(2026, 11, 24), date(2026, 11, 30))

    assert len(history.days) == 7
    assert history.counts[date(2026, 11, 24)] == {"angry": 1, "happy": 1}
    assert history.total == {"angry": 2, "happy": 1} and history.count == 3


def test_caption_uses_the_persons_own_words_and_says_when_there_is_nothing():
    history = history_of([(_at(30), "angry")], "this week", date(2026, 11, 24), date(2026, 11, 30))
    empty = history_of([], "this week", date(2026, 11, 24), date(2026, 11, 30))

    assert "tense 100%" in render_history_text(history, "en", {"angry": "tense"})
    assert render_history_text(empty, "en", {}).startswith("I have no analysed voice notes")


def test_chart_is_a_png_in_english_and_korean():
    history = history_of(
        [(_at(25), "sad"), (_at(26), "calm")], "이번 주", date(2026, 11, 24), date(2026, 11, 30)
    )
    for lang in ("en", "ko"):
        png = render_history_chart(history, lang, {"sad": "가라앉음"})
        assert png.startswith(b"\x89PNG")
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (1200, 900)

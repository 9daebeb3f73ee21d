import io
from datetime import UTC, datetime, timedelta

import matplotlib.image as mpimg

from bots.summary import (
    CHART_DPI,
    CHART_SIZE_IN,
    MoodNote,
    quadrant,
    render_chart,
    render_summary_text,
    summarise,
)

START = datetime(2026, 11, 21, 9, tzinfo=UTC)


def _note(i: int, member: str, label: str) -> MoodNote:
    probs = {"happy": 0.05, "sad": 0.05, "angry": 0.05, "calm": 0.05}
    probs[label] = 0.85
    return MoodNote(START + timedelta(minutes=i), member, label, probs)


def _souring_chat() -> list[MoodNote]:
    first = [_note(i, "Mina" if i % 2 else "Joon", "happy") for i in range(10)]
    later = [_note(10 + i, "Mina" if i % 2 else "Joon", "angry") for i in range(10)]
    return [*later, *first]  # order must not matter


def test_shares_members_and_trend_of_a_chat_that_turned_sour():
    summary = summarise(_souring_chat(), "today")
    assert summary.count == 20
    assert summary.shares == {"angry": 0.5, "happy": 0.5} or set(summary.shares) == {
        "angry",
        "happy",
    }
    assert sum(summary.shares.values()) == 1.0
    assert summary.trend_word == "down"
    assert summary.trend[0].valence > 0 > summary.trend[-1].valence


def test_a_members_usual_tone_is_their_most_frequent_one():
    notes = [_note(0, "Alex", "sad"), _note(1, "Alex", "sad"), _note(2, "Alex", "happy")]
    assert summarise(notes, "today").members == {"Alex": "sad"}


def test_summary_text_in_both_languages():
    summary = summarise(_souring_chat(), "today")
    en = render_summary_text(summary, "en")
    assert en.splitlines()[0] == "Mood of this chat, today: 20 voice notes"
    assert "darker" in en
    assert "어두워졌어요" in render_summary_text(summary, "ko")


def test_an_empty_period_says_there_is_nothing_yet():
    assert "No analysed voice notes" in render_summary_text(summarise([], "this week"), "en")


def test_quadrants_of_the_mood_plane():
    assert quadrant(0.5, 0.5) == "upbeat"
    assert quadrant(0.5, -0.5) == "relaxed"
    assert quadrant(-0.5, 0.5) == "tense"
    assert quadrant(-0.5, -0.5) == "low"
    assert quadrant(0.02, -0.03) == "neutral"


def test_chart_is_a_phone_sized_png_in_both_languages():
    summary = summarise(_souring_chat(), "today")
    for lang in ("en", "ko"):
        png = render_chart(summary, lang)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        image = mpimg.imread(io.BytesIO(png), format="png")
        assert image.shape[:2] == (
            round(CHART_SIZE_IN[1] * CHART_DPI),
            round(CHART_SIZE_IN[0] * CHART_DPI),
        )
        # Not a blank canvas: a good share of the pixels carry ink.
        assert (image[..., :3].mean(axis=2) < 0.9).mean() > 0.02

import io
from datetime import UTC, datetime, timedelta

import matplotlib.image as mpimg
from matplotlib.colors import to_hex

from bots.charts.canvas import CHART_DPI
from bots.charts.summary import CHART_SIZE_IN, draw_chart, render_chart
from bots.palette import tone_colour
from bots.summary import MoodNote, quadrant, render_summary_text, summarise

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


MEMBERS = ["Mina", "Joon", "Alexandra", "Seo-yeon", "Tom", "박지훈"]
USUAL = ["happy", "calm", "neutral", "sad", "angry", "surprised"]


def _busy_week() -> list[MoodNote]:
    """Six members, 140 notes spread over seven days, each member mostly in their own tone."""
    notes = []
    for i in range(140):
        member = i % 6
        label = USUAL[member] if i % 4 else USUAL[(member + 1) % 6]
        probs = {tone: 0.02 for tone in USUAL}
        probs[label] = 0.9
        at = START + timedelta(minutes=(i * 72) % (7 * 24 * 60))
        notes.append(MoodNote(at, MEMBERS[member], label, probs))
    return notes


def _axes(summary, lang="en"):
    shares, trend, plane = draw_chart(summary, lang).axes
    return shares, trend, plane


def test_a_weeks_time_axis_names_each_date_once():
    summary = summarise(_busy_week(), "this week")
    ticks = [label.get_text() for label in _axes(summary)[1].get_xticklabels()]
    ticks = [tick for tick in ticks if tick]
    assert len(ticks) >= 6
    assert len(ticks) == len(set(ticks)), ticks


def test_an_hours_time_axis_names_each_time_once():
    ticks = [
        label.get_text()
        for label in _axes(summarise(_souring_chat(), "today"))[1].get_xticklabels()
    ]
    ticks = [tick for tick in ticks if tick]
    assert len(ticks) >= 2
    assert len(ticks) == len(set(ticks)), ticks


def test_each_tone_is_drawn_in_its_own_palette_colour():
    summary = summarise(_busy_week(), "this week")
    shares, _, plane = _axes(summary)
    bars = {to_hex(bar.get_facecolor()) for bar in shares.patches}
    assert bars == {tone_colour(label).lower() for label in summary.shares}
    assert len(bars) == len(summary.shares) == 6
    # Each member's dot wears the colour of their usual tone.
    dots = {to_hex(c.get_facecolor()[0]) for c in plane.collections if len(c.get_offsets()) == 1}
    assert {tone_colour(label).lower() for label in summary.members.values()} <= dots


def test_no_two_words_on_the_tone_map_overlap():
    for lang in ("en", "ko"):
        plane = _axes(summarise(_busy_week(), "this week"), lang)[2]
        renderer = plane.figure.canvas.get_renderer()
        boxes = [(text.get_text(), text.get_window_extent(renderer)) for text in plane.texts]
        words = {name for name, _ in boxes}
        assert {"Mina", "박지훈", "everyone" if lang == "en" else "전체"} <= words
        assert ("neutral" if lang == "en" else "중립") in words  # reference points carry words
        for i, (a, box_a) in enumerate(boxes):
            for b, box_b in boxes[i + 1 :]:
                assert not box_a.overlaps(box_b), (a, b)


def test_chart_title_speaks_of_voices_in_both_languages():
    summary = summarise(_busy_week(), "this week")
    title = draw_chart(summary, "en").get_suptitle()
    assert title.splitlines() == ["How voices sounded in this chat this week", "140 voice notes"]
    ko = draw_chart(summarise(_busy_week(), "이번 주"), "ko").get_suptitle()
    assert ko.splitlines()[0] == "이번 주 이 대화방의 목소리는 이렇게 들렸어요"
    assert "Mood" not in title and "분위기" not in ko


def test_a_summary_names_the_model_versions_when_more_than_one_answered():
    notes = [
        MoodNote(START + timedelta(minutes=i), "Mina", "happy", {"happy": 0.9}, model)
        for i, model in enumerate(["m:new", "m:old", "m:new"])
    ]
    mixed = summarise(notes, "this week")
    one = summarise([n for n in notes if n.model == "m:new"], "this week")

    assert mixed.models == ("m:new", "m:old")  # most notes first
    assert "2 model versions (m:new, m:old)" in render_summary_text(mixed, "en")
    assert "모델 버전 2개(m:new, m:old)" in render_summary_text(mixed, "ko")
    assert one.models == ("m:new",) and "model versions" not in render_summary_text(one, "en")

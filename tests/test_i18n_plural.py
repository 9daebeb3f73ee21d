"""English counts agree with their nouns ("1 note", "2 notes"); Korean counts need no plural."""

import string

import pytest

from bots.i18n import TEXT, plural, t
from bots.summary import MoodNote, render_summary_text, summarise
from tests.test_summary import START


def test_one_note_and_two_notes():
    assert t("en", "summary.period.last", n=1) == "last 1 note"
    assert t("en", "summary.period.last", n=2) == "last 2 notes"
    assert "from 1 note." in t("en", "baseline.status_on", count=1)
    assert "from 2 notes." in t("en", "baseline.status_on", count=2)


def test_zero_and_fractions_take_the_plural():
    assert plural(0, "note", "notes") == "notes"
    assert plural(1.0, "minute", "minutes") == "minute"
    assert plural(1.5, "minute", "minutes") == "minutes"
    assert "(the limit is 1 minute)" in t("en", "error.too_long", limit_min=1.0)
    assert "(the limit is 2.5 minutes)" in t("en", "error.too_long", limit_min=2.5)


def test_forget_counts_each_kind_of_thing_in_its_own_number():
    done = t("en", "forget.done", notes=1, votes=0, audio=2)
    assert done.endswith("1 note, 0 votes, 2 audio files.")
    assert t("en", "forget.done", notes=3, votes=1, audio=1).endswith(
        "3 notes, 1 vote, 1 audio file."
    )
    assert t("en", "donate.off", count=1).endswith("the 1 I had kept is deleted.")
    assert t("en", "donate.off", count=4).endswith("the 4 I had kept are deleted.")


def test_a_summary_of_a_single_note_says_one_voice_note():
    one = summarise([MoodNote(START, "Mina", "happy", {"happy": 0.9})], "today")
    assert (
        render_summary_text(one, "en").splitlines()[0] == "Mood of this chat, today: 1 voice note"
    )
    assert "음성 메시지 1개" in render_summary_text(one, "ko")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_plural_word_goes_with_its_number_shown_in_the_same_sentence(lang):
    for key, template in TEXT[lang].items():
        fields = [
            (field, spec) for _, field, spec, _ in string.Formatter().parse(template) if field
        ]
        shown = {field for field, spec in fields if "|" not in (spec or "")}
        chosen = {field for field, spec in fields if "|" in (spec or "")}
        assert chosen <= shown, key
        for _, spec in fields:
            if spec and "|" in spec:
                one, other = spec.split("|")
                assert one and other and one != other, (key, spec)

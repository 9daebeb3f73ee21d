"""Every sentence VoiceMood says, in English and Korean, looked up in one place.

The sentences themselves are in `texts_en.py` and `texts_ko.py`, one dictionary per language
with the same keys (a test checks both have every key). They are `str.format` templates, plus one
choice for number agreement: `{count} {count:note|notes}` says "1 note" and "2 notes" (Korean
counts need none).

Replies speak of how the tone of voice *sounds*, never of what a person feels.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any, Literal

from bots.texts_en import EN
from bots.texts_ko import KO

Lang = Literal["en", "ko"]
LANGUAGES: tuple[Lang, ...] = ("en", "ko")

EMOJI = {
    "neutral": "😐",
    "calm": "😌",
    "happy": "😊",
    "sad": "😢",
    "angry": "😠",
    "fearful": "😨",
    "disgust": "🤢",
    "surprised": "😮",
    "bored": "🥱",
    "other": "🤔",
}

LABEL_NAMES: dict[Lang, dict[str, str]] = {
    "en": {
        "neutral": "neutral",
        "calm": "calm",
        "happy": "happy",
        "sad": "sad",
        "angry": "angry",
        "fearful": "fearful",
        "disgust": "disgusted",
        "surprised": "surprised",
        "bored": "bored",
        "other": "something else",
    },
    "ko": {
        "neutral": "중립",
        "calm": "차분함",
        "happy": "기쁨",
        "sad": "슬픔",
        "angry": "화남",
        "fearful": "두려움",
        "disgust": "불쾌함",
        "surprised": "놀람",
        "bored": "지루함",
        "other": "기타",
    },
}

TEXT: dict[Lang, dict[str, str]] = {"en": EN, "ko": KO}


# Sentences made from other parts rather than kept here: "help" is generated from the one command
# table (bots.core.commands registers it), so no list of commands is kept twice.
_GENERATED: dict[str, Callable[[str], str]] = {}


def generated(key: str, make: Callable[[str], str]) -> None:
    """Let `t(lang, key)` be `make(lang)`."""
    _GENERATED[key] = make


def t(lang: str, key: str, **params: Any) -> str:
    """The sentence `key` in `lang` (English when the language or key is unknown), filled in."""
    if key in _GENERATED:
        return _GENERATED[key](lang)
    catalog = TEXT.get(lang, TEXT["en"])  # type: ignore[call-overload]
    template = catalog.get(key) or TEXT["en"][key]
    return _FORMATTER.format(template, **params)


def plural(n: float, one: str, other: str) -> str:
    """`one` for exactly one (1 note), `other` for any other number (0 notes, 1.5 minutes)."""
    return one if n == 1 else other


class _Formatter(string.Formatter):
    """str.format, where a spec with a bar, `{n:note|notes}`, is the word that agrees with n."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            one, _, other = format_spec.partition("|")
            return plural(value, one, other)
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def label_name(lang: str, label: str, words: Mapping[str, str] | None = None) -> str:
    """The label's name in `lang`, or the person's own word for it (/words) when they chose one."""
    if words and label in words:
        return words[label]
    names = LABEL_NAMES.get(lang, LABEL_NAMES["en"])  # type: ignore[call-overload]
    return names.get(label, label)


def percent(p: float) -> str:
    return f"{round(100 * p)}%"

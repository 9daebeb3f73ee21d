"""Checks of values coming into the store: platform names and ids, languages, times, numbers.

Mistakes of the calling code raise ValueError; values a person chose (a language, a time) raise
the typed InvalidValue, whose message can be shown to them.
"""

from __future__ import annotations

import math
import re
import time as clock
from datetime import UTC, datetime, time

from storage.errors import InvalidValue

PLATFORM_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def platform(platform: str) -> str:
    if not PLATFORM_RE.match(platform):
        raise ValueError(f"platform must be a short lower-case name, not {platform!r}")
    return platform


def display_name(name: str | None) -> str | None:
    if name is None:
        return None
    # Platform names are short (Discord 32, Telegram 2 x 64); a cap keeps a hostile one small.
    return " ".join(name.split())[:200] or None


# A person's own word for a label: short enough for a chart's axis and a reply's line.
MAX_WORD_LENGTH = 32


def label_word(word: str) -> str:
    """The word with its spaces tidied; InvalidValue when empty or longer than MAX_WORD_LENGTH."""
    tidy = " ".join(word.split())
    if not 1 <= len(tidy) <= MAX_WORD_LENGTH:
        raise InvalidValue(f"A word must be 1 to {MAX_WORD_LENGTH} characters.", word=word)
    return tidy


def platform_id(value: str | int, what: str) -> str:
    text = str(value)
    if not text or len(text) > 200:
        raise ValueError(f"{what} must be 1-200 characters, not {text!r}")
    return text


def language(language: str | None) -> str | None:
    if language is None:
        return None
    code = language.strip().lower()
    if not LANGUAGE_RE.match(code):
        raise InvalidValue(
            f"{language!r} is not a language code like 'en' or 'ko'.", language=language
        )
    return code


def digest_time(at: time | None) -> str | None:
    if at is None:
        return None
    if at.utcoffset() not in (None, UTC.utcoffset(None)):
        raise InvalidValue("The digest time must be given in UTC.", time=at.isoformat())
    return f"{at.hour:02d}:{at.minute:02d}"


def check_number(value: float, what: str, low: float, high: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{what} must be a number in [{low}, {high}], not {value!r}")


def timestamp(at: datetime | None) -> float:
    if at is None:
        return clock.time()
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("times must be timezone-aware (UTC); got a naive datetime")
    return at.timestamp()

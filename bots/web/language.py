"""Which language a web visitor gets, and the sentences the page shows, taken from bots.i18n."""

from __future__ import annotations

from typing import Any

from bots.core.buttons import PICKABLE_LABELS
from bots.i18n import EMOJI, LABEL_NAMES, LANGUAGES, TEXT
from bots.palette import TONE_COLOURS
from inference.labels import AFFECT

# The catalogue keys the page uses; the rest of bots.i18n is for the chat bots' commands.
_PAGE_KEYS = (
    "answer",
    "not_sure",
    "timeline",
    "web.",
    "error.",
    "button.right",
    "button.wrong",
    "button.back",
    "pick.prompt",
    "vote.",
    "forget.done",
    "forget.nothing",
    "chart.valence_short",
    "chart.arousal_short",
    "button.practice",
    "button.music",
    "music.why",
    "cue.",  # the cue chart's words: "louder", "flatter", ...
)


def choose_language(requested: str | None, accept_language: str | None, default: str) -> str:
    """An explicit choice if we speak it, else the best of Accept-Language we speak, else default."""
    if requested in LANGUAGES:
        return str(requested)
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        code, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = code.strip().lower().split("-")[0]
        if language in LANGUAGES and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else default


def page_catalogue(default: str) -> dict[str, Any]:
    """Everything the page needs to speak both languages, as JSON (one request, then cached)."""
    return {
        "default": default,
        "languages": list(LANGUAGES),
        "text": {
            lang: {k: v for k, v in TEXT[lang].items() if k.startswith(_PAGE_KEYS)}
            for lang in LANGUAGES
        },
        "labels": LABEL_NAMES,
        "emoji": EMOJI,
        "pickable": list(PICKABLE_LABELS),
        "affect": {label: [p.valence, p.arousal] for label, p in AFFECT.items()},
        "colours": dict(TONE_COLOURS),  # the charts' palette, so page and charts agree
    }

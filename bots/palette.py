"""One colour per tone, the same in the group chart, the history chart and the web page.

Okabe & Ito's palette (2008), chosen because its colours stay apart for the common kinds of
colour blindness; it has eight colours, so neutral and "other" are greys and bored a dark brown,
told apart from the rest by lightness. Charts still label every tone in words: colour is never
the only cue.
"""

from __future__ import annotations

TONE_COLOURS: dict[str, str] = {
    "neutral": "#999999",  # grey
    "calm": "#56B4E9",  # sky blue
    "happy": "#E69F00",  # orange
    "sad": "#0072B2",  # blue
    "angry": "#D55E00",  # vermillion
    "fearful": "#CC79A7",  # reddish purple
    "disgust": "#009E73",  # bluish green
    "surprised": "#F0E442",  # yellow
    "bored": "#6B4E16",  # dark brown
    "other": "#4D4D4D",  # dark grey
}


def tone_colour(label: str) -> str:
    """The tone's colour (grey for a label the palette does not know)."""
    return TONE_COLOURS.get(label, TONE_COLOURS["other"])

"""Building the page's two fonts, so it never depends on the fonts a machine happens to have.

A bare Chromium (a server, a fresh container, a minimal Linux desktop) showed Korean text and
the tone emoji as empty boxes. The page therefore carries, as static files with their licences:

- `VoiceMoodHangul.woff`: NanumGothic Regular (SIL OFL 1.1, shipped by `koreanize-matplotlib`,
  a dependency) cut to Hangul, without hinting: 0.4 MB instead of 4.7 MB, and fetched only when
  Korean is on screen (`unicode-range`). Renamed, because "Nanum"/"NanumGothic" are Reserved Font
  Names that a modified (subset) font may not carry.
- `NotoColorEmoji-page.woff`: Noto Color Emoji (SIL OFL 1.1, no reserved names; Debian's
  `fonts-noto-color-emoji`), cut to the emoji the page can show: 46 KB instead of 11 MB.

Each has its licence beside it (`*-LICENSE.txt`).

WOFF (zlib) rather than WOFF2: WOFF2 needs brotli, which is not installed here. Regenerate after
adding a sentence or an emoji:

    apt-get download fonts-noto-color-emoji && dpkg-deb -x fonts-noto-color-emoji_*.deb deb
    python -m bots.web.fonts deb/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
"""

from __future__ import annotations

import sys
from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
KOREAN_FONT = "VoiceMoodHangul.woff"
_KOREAN_NAME = "VoiceMood Hangul"
EMOJI_FONT = "NotoColorEmoji-page.woff"


# Sentences the page shows as the API words them (the Me area's /history and /words answers,
# the Practice tab's rounds, attempts and summaries), beside its own catalogue.
_API_SENTENCES = ("practice.", "history.", "words.", "cues.", "vote.", "forget.")


def page_text() -> str:
    """Every character the page itself can show: its code, its catalogue and the API's sentences."""
    from bots.i18n import EMOJI, LANGUAGES, TEXT
    from bots.web.language import page_catalogue

    parts = [(STATIC_DIR / name).read_text("utf-8") for name in ("app.js", "index.html")]
    parts += [repr(page_catalogue(lang)) for lang in LANGUAGES]
    parts += [
        v for lang in LANGUAGES for k, v in TEXT[lang].items() if k.startswith(_API_SENTENCES)
    ]
    parts += EMOJI.values()
    return "".join(parts)


def hangul() -> str:
    """Every Hangul syllable and compatibility jamo (names and file names need more than ours)."""
    return "".join(map(chr, [*range(0xAC00, 0xD7A4), *range(0x3131, 0x318F)]))


def build(emoji_ttf: Path, out: Path = STATIC_DIR) -> None:
    """Write both subset fonts into `out`."""
    import koreanize_matplotlib

    nanum = Path(koreanize_matplotlib.__file__).with_name("fonts") / "NanumGothic.ttf"
    korean = hangul()
    _subset(nanum, out / KOREAN_FONT, korean, rename=_KOREAN_NAME)
    emoji = {c for c in page_text() if ord(c) >= 0x2190 and c not in korean}
    _subset(emoji_ttf, out / EMOJI_FONT, "".join(emoji) + "\ufe0f\u200d")


def _subset(source: Path, target: Path, characters: str, rename: str | None = None) -> None:
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.hinting = False  # hinting is half the size of a Hangul font, and browsers rarely use it
    options.name_IDs = ["*"]  # keeps the copyright and licence names the OFL asks to keep
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    if rename is not None:
        names = font["name"]
        for record in names.names:
            if record.nameID in (1, 4, 16):
                record.string = rename
            elif record.nameID in (3, 6):
                record.string = rename.replace(" ", "")
        names.removeNames(nameID=7)  # the original's trademark line names the reserved name
    subset.save_font(font, str(target), options)


if __name__ == "__main__":
    build(Path(sys.argv[1]))

"""The songs music suggestions come from, each placed on the valence/arousal plane.

`catalogue.csv` beside this file is made from the two rated sets in `../shared/data/music/` (both
MIT; their licences are beside it) by `python -m inference.music ../shared/data/music`:

- PMEmo (Zhang et al., ICMR 2018): 767 chart songs, each rated by listeners for valence and
  arousal on 0..1; placed at 2x - 1. Ten title/artist pairs appear twice: the first is kept.
  Two songs whose titles are a slur or a sexual word are left out (_LEFT_OUT): the bots show
  titles to anyone who taps, in any chat.
- Film-music excerpts (Eerola & Vuoskoski 2011): 110 excerpts from 40 films, rated 1..9 for
  valence and energy; placed at (x - 5) / 4, energy as arousal. They name a film, not a track,
  so their artist is empty; obvious typos in the film names are mended (_FILM_NAMES).

Only metadata is copied, never audio. Both axes then run -1..+1 like the answers' own places
(`inference.affect`), so a note's place and a song's are compared directly.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import quote_plus

COLUMNS = ("source", "id", "title", "artist", "valence", "arousal")
SOURCES = ("pmemo", "film")
SEARCH_URL = "https://www.youtube.com/results?search_query="

# PMEmo ids of songs whose titles should not pop up under someone's voice note.
_LEFT_OUT = frozenset({"4", "398"})
# Misspellings and leftovers in the film excerpts' soundtrack names, as the shared copy has them.
_FILM_NAMES = {
    "Crouching Tiger": "Crouching Tiger, Hidden Dragon",
    "Crouching Tiger jne.": "Crouching Tiger, Hidden Dragon",
    "Grizzle Man": "Grizzly Man",
    "Lethal weapon 3": "Lethal Weapon 3",
    "Man of Galilee CD1": "Man of Galilee",
    "The Godfarher": "The Godfather",
    "The Portait of a Lady": "The Portrait of a Lady",
    "Vertigo OST": "Vertigo",
}


@dataclass(frozen=True)
class Song:
    """One catalogue entry; a film excerpt has no artist (`source` "film")."""

    source: str
    id: str
    title: str
    artist: str
    valence: float
    arousal: float

    @property
    def key(self) -> str:
        """Unique across the catalogue ("pmemo:124", "film:17"): what a person's last set keeps."""
        return f"{self.source}:{self.id}"

    @property
    def is_film(self) -> bool:
        return self.source == "film"

    @property
    def search_text(self) -> str:
        if self.is_film:
            return f"{self.title} soundtrack"
        return f"{self.title} {self.artist}"

    @property
    def link(self) -> str:
        """A web search for the song; made from its text alone (no API key, no request)."""
        return SEARCH_URL + quote_plus(self.search_text)

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "artist": self.artist,
            "source": self.source,
            "valence": self.valence,
            "arousal": self.arousal,
            "link": self.link,
        }


@cache
def load_catalogue() -> tuple[Song, ...]:
    """The bundled catalogue (read once per process)."""
    text = resources.files(__package__).joinpath("catalogue.csv").read_text(encoding="utf-8")
    return tuple(_read(io.StringIO(text)))


def convert(folder: Path) -> list[Song]:
    """The catalogue made from the shared copy's `pmemo.csv` and `soundtracks.csv`."""
    songs: list[Song] = []
    seen: set[tuple[str, str]] = set()
    with (folder / "pmemo.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            title, artist = row["title"].strip(), row["artist"].strip()
            if (title.lower(), artist.lower()) in seen or row["id"] in _LEFT_OUT:
                continue
            seen.add((title.lower(), artist.lower()))
            songs.append(
                Song(
                    "pmemo",
                    row["id"],
                    title,
                    artist,
                    _place(float(row["valence"]) * 2 - 1),
                    _place(float(row["arousal"]) * 2 - 1),
                )
            )
    with (folder / "soundtracks.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            film = row["soundtrack"].strip()
            songs.append(
                Song(
                    "film",
                    row["number"],
                    _FILM_NAMES.get(film, film),
                    "",
                    _place((float(row["valence"]) - 5) / 4),
                    _place((float(row["energy"]) - 5) / 4),
                )
            )
    return songs


def write(songs: Iterable[Song], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(COLUMNS)
        for s in songs:
            writer.writerow((s.source, s.id, s.title, s.artist, s.valence, s.arousal))


def _read(file: io.StringIO) -> Iterator[Song]:
    for row in csv.DictReader(file):
        yield Song(
            row["source"],
            row["id"],
            row["title"],
            row["artist"],
            float(row["valence"]),
            float(row["arousal"]),
        )


def _place(value: float) -> float:
    return round(min(1.0, max(-1.0, value)), 4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rebuild catalogue.csv from the shared copy.")
    parser.add_argument("folder", type=Path, help="../shared/data/music")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("catalogue.csv"))
    args = parser.parse_args(argv)
    songs = convert(args.folder)
    write(songs, args.out)
    print(f"{len(songs)} songs -> {args.out}")

"""Music for a mood: a rated song catalogue (catalogue.py) and songs near a place on it (suggest.py)."""

from inference.music.catalogue import Song, load_catalogue
from inference.music.suggest import MODES, Mode, aim, suggest

__all__ = ["MODES", "Mode", "Song", "aim", "load_catalogue", "suggest"]

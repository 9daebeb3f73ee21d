"""Three songs near a place on the valence/arousal plane: the mood itself, or a step from it.

*match* aims at the note's own place. *lift* aims a step toward calm and pleasant, as music
therapy's iso principle does: start near the listener's state and move gently, never jump to the
opposite corner. The step is LIFT_STEP (a quarter of the plane's width) straight toward
LIFT_GOAL, stopping there: a sad note (-0.7, -0.5) is lifted to about (-0.21, -0.42), an angry one
(-0.6, +0.8) to about (-0.25, +0.45), one already near the goal to the goal itself.

The songs are drawn at random from the `nearest` songs to the aim (one excerpt per film), leaving
out the person's previous three, so the same three never come twice in a row and a mood that
comes back gets other songs. `bench/music.py` measures how close that stays and how often songs
repeat.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from typing import Literal

from inference.music.catalogue import Song, load_catalogue

Mode = Literal["match", "lift"]
MODES: tuple[Mode, ...] = ("match", "lift")

LIFT_GOAL = (0.5, -0.3)  # pleasant and somewhat calm
LIFT_STEP = 0.5
COUNT = 3
NEAREST = 10


def aim(valence: float, arousal: float, mode: Mode) -> tuple[float, float]:
    """Where the songs should sit for a note at (valence, arousal)."""
    if mode == "match":
        return valence, arousal
    dv, da = LIFT_GOAL[0] - valence, LIFT_GOAL[1] - arousal
    distance = math.hypot(dv, da)
    if distance <= LIFT_STEP:
        return LIFT_GOAL
    share = LIFT_STEP / distance
    return round(valence + dv * share, 4), round(arousal + da * share, 4)


def suggest(
    point: tuple[float, float],
    *,
    avoid: Collection[str] = (),
    rng: random.Random | None = None,
    catalogue: Sequence[Song] | None = None,
    count: int = COUNT,
    nearest: int = NEAREST,
) -> list[Song]:
    """`count` songs drawn from the `nearest` to `point`, none whose key is in `avoid`.

    The draw is ordered nearest first. Avoided songs come back only if too few others exist.
    """
    songs = load_catalogue() if catalogue is None else catalogue
    ranked = sorted(songs, key=lambda s: math.hypot(s.valence - point[0], s.arousal - point[1]))
    pool = _distinct([s for s in ranked if s.key not in avoid], nearest)
    if len(pool) < count:
        pool = _distinct(ranked, max(nearest, count))
    chosen = (rng or random.Random()).sample(pool, min(count, len(pool)))
    return sorted(chosen, key=pool.index)


def distance(song: Song, point: tuple[float, float]) -> float:
    return math.hypot(song.valence - point[0], song.arousal - point[1])


def _distinct(ranked: Sequence[Song], limit: int) -> list[Song]:
    """The first `limit` songs with distinct titles and artists (films have several excerpts)."""
    seen: set[tuple[str, str]] = set()
    kept: list[Song] = []
    for song in ranked:
        name = (song.title.lower(), song.artist.lower())
        if name in seen:
            continue
        seen.add(name)
        kept.append(song)
        if len(kept) == limit:
            break
    return kept

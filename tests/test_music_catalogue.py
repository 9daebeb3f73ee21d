"""The song catalogue and the choice of songs near a place on the valence/arousal plane."""

from __future__ import annotations

import random
from importlib import resources

import pytest

from inference.music import aim, load_catalogue, suggest
from inference.music.catalogue import convert
from inference.music.suggest import LIFT_GOAL, LIFT_STEP, distance
from tests.conftest import SHARED_DATA

MUSIC_DATA = SHARED_DATA / "music"


def test_the_catalogue_ships_with_both_licences_and_every_song_on_the_plane():
    songs = load_catalogue()
    assert len(songs) > 800
    assert {s.source for s in songs} == {"pmemo", "film"}
    assert len({s.key for s in songs}) == len(songs)
    assert all(-1 <= s.valence <= 1 and -1 <= s.arousal <= 1 for s in songs)
    assert all(s.title and (s.artist or s.is_film) for s in songs)
    folder = resources.files("inference.music")
    for name in ("LICENSE-PMEmo.txt", "LICENSE-soundtracks.txt"):
        assert "MIT License" in folder.joinpath(name).read_text(encoding="utf-8")


@pytest.mark.skipif(not MUSIC_DATA.is_dir(), reason="../shared/data/music is not here")
def test_the_bundled_catalogue_is_the_shared_copy_converted():
    assert tuple(convert(MUSIC_DATA)) == load_catalogue()


def test_a_link_is_a_search_made_from_the_songs_own_words():
    song = next(s for s in load_catalogue() if s.title == "Attention" and s.artist)
    assert song.link == "https://www.youtube.com/results?search_query=Attention+Charlie+Puth"
    film = next(s for s in load_catalogue() if s.is_film)
    assert film.link.endswith("+soundtrack")


def test_match_aims_at_the_note_and_lift_a_step_toward_calm_and_pleasant():
    sad = (-0.7, -0.5)
    assert aim(*sad, "match") == sad
    lifted = aim(*sad, "lift")
    assert lifted[0] > sad[0]
    assert distance_between(lifted, sad) == pytest.approx(LIFT_STEP, abs=1e-3)
    assert distance_between(lifted, LIFT_GOAL) < distance_between(sad, LIFT_GOAL)
    assert aim(0.45, -0.25, "lift") == LIFT_GOAL  # close enough: the goal itself


def test_suggestions_are_three_distinct_catalogue_songs_near_the_aim_not_random_ones():
    rng = random.Random(1)
    catalogue = load_catalogue()
    for point in ((-0.7, -0.5), (0.6, 0.6), (-0.5, 0.7), (0.4, -0.5)):
        songs = suggest(point, rng=rng)
        assert len(songs) == 3 and len({(s.title, s.artist) for s in songs}) == 3
        assert all(s in catalogue for s in songs)
        near = sum(distance(s, point) for s in songs) / 3
        anywhere = sum(distance(s, point) for s in rng.sample(catalogue, 300)) / 300
        assert near < anywhere / 2


def test_avoided_songs_are_left_out_so_the_same_three_never_come_twice_in_a_row():
    rng = random.Random(2)
    last: list[str] = []
    for _ in range(50):
        keys = [s.key for s in suggest((-0.7, -0.5), avoid=last, rng=rng)]
        assert not set(keys) & set(last)
        last = keys


def test_match_and_lift_suggest_different_songs_for_a_sad_note():
    match = {s.key for s in suggest(aim(-0.7, -0.5, "match"), rng=random.Random(3))}
    lift = {s.key for s in suggest(aim(-0.7, -0.5, "lift"), rng=random.Random(3))}
    assert not match & lift


def distance_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5

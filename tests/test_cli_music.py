"""`voicemood classify --music [--lift]`: three catalogue songs per answer, as JSON or text."""

from __future__ import annotations

import json
import os

from inference.music import aim, load_catalogue
from inference.music.suggest import distance
from tests.test_cli_classify import _classify

SONGS = {(s.title, s.artist, s.valence, s.arousal): s for s in load_catalogue()}


def _songs(record: dict) -> list:
    music = record["music"]
    assert len(music) == 3
    found = []
    for song in music:
        key = (song["title"], song["artist"], song["valence"], song["arousal"])
        assert key in SONGS, song  # every suggestion is a catalogue row
        assert song["link"] == SONGS[key].link
        found.append(SONGS[key])
    return found


def test_music_gives_three_catalogue_songs_per_answer_and_none_for_an_error(
    tiny_hubert_dir, make_audio, tmp_path
):
    files = [make_audio(f"note{i}.ogg", 2.0, seed=i) for i in range(3)]
    corrupt = tmp_path / "corrupt.ogg"
    corrupt.write_bytes(b"OggS" + os.urandom(300))

    result = _classify(
        "--json", "--music", *map(str, files), str(corrupt), model=tiny_hubert_dir, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    chosen = [_songs(record) for record in records[:3]]
    for record, songs in zip(records, chosen, strict=False):
        place = (record["valence"], record["arousal"])
        assert all(distance(s, place) < 0.5 for s in songs)
    # Never the previous answer's three again.
    for before, after in zip(chosen, chosen[1:], strict=False):
        assert not {s.key for s in before} & {s.key for s in after}
    assert "music" not in records[3] and records[3]["code"] == "undecodable"


def test_lift_suggests_songs_a_step_toward_calm_and_pleasant(tiny_hubert_dir, make_audio, tmp_path):
    note = make_audio("note.ogg", 2.0)

    matched = json.loads(
        _classify("--json", "--music", str(note), model=tiny_hubert_dir, cwd=tmp_path).stdout
    )
    lifted = json.loads(
        _classify(
            "--json", "--music", "--lift", str(note), model=tiny_hubert_dir, cwd=tmp_path
        ).stdout
    )

    place = (lifted["valence"], lifted["arousal"])
    lift_aim = aim(*place, "lift")
    assert place != lift_aim
    lifted_songs, matched_songs = _songs(lifted), _songs(matched)
    assert sum(distance(s, lift_aim) for s in lifted_songs) < sum(
        distance(s, place) for s in lifted_songs
    )
    assert sum(distance(s, place) for s in matched_songs) < sum(
        distance(s, lift_aim) for s in matched_songs
    )


def test_the_text_answer_lists_the_songs_under_it_in_korean(tiny_hubert_dir, make_audio, tmp_path):
    note = make_audio("note.ogg", 2.0)

    result = _classify("--music", "--lang", "ko", str(note), model=tiny_hubert_dir, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "들려요" in lines[0]
    songs = [line for line in lines if line.startswith("  🎵 ")]
    assert len(songs) == 3
    assert all("https://www.youtube.com/results?search_query=" in line for line in songs)

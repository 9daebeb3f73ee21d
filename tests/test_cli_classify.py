"""`voicemood classify` end to end: the installed console command, real files, a real model folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _classify(*args: str, model: Path | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEMOOD_")}
    if model is not None:
        env["VOICEMOOD_MODEL"] = str(model)
    return subprocess.run(
        [sys.executable, "-m", "voicemood", "classify", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_json_lines_give_one_answer_per_file_and_errors_without_stopping(
    tiny_hubert_dir, make_audio, tmp_path
):
    files = [
        make_audio("voice.ogg", 3.0),
        make_audio("song.mp3", 2.0, seed=1),
        make_audio("round.mp4", 2.0, seed=2),
    ]
    corrupt = tmp_path / "corrupt.ogg"
    corrupt.write_bytes(b"OggS" + os.urandom(300))
    missing = tmp_path / "missing.wav"
    result = _classify(
        "--json", *map(str, files), str(corrupt), str(missing), model=tiny_hubert_dir, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(p) for p in [*files, corrupt, missing]]
    for record, seconds in zip(records[:3], (3.0, 2.0, 2.0), strict=True):
        assert record["label"] in record["probabilities"]
        assert 0.0 <= record["confidence"] <= 1.0
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
        assert record["duration_s"] == pytest.approx(seconds, abs=0.15)
        assert "error" not in record
    assert records[3]["code"] == "undecodable" and records[3]["error"]
    assert records[4]["code"] == "file" and "label" not in records[4]


def test_exit_status_is_non_zero_only_when_every_file_failed(tiny_hubert_dir, tmp_path):
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    result = _classify("--json", str(empty), model=tiny_hubert_dir, cwd=tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout)["code"] == "empty"


def test_text_answer_speaks_of_the_tone_of_voice(tiny_hubert_dir, make_audio, tmp_path):
    note = make_audio("voice.ogg", 2.0)
    result = _classify(str(note), model=tiny_hubert_dir, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tone" in result.stdout


def test_a_model_setting_that_points_nowhere_is_a_clear_start_up_error(tmp_path, make_audio):
    note = make_audio("voice.ogg", 1.0)
    result = _classify(str(note), model=tmp_path / "no-such-model", cwd=tmp_path)
    assert result.returncode == 2
    assert "VOICEMOOD_MODEL" in result.stderr
    assert "Traceback" not in result.stderr


def test_with_no_model_setting_the_bundled_model_answers_on_real_speech(shared_data, tmp_path):
    # Run from an empty folder with no VOICEMOOD_ variables: what a fresh clone does after install.
    # A RAVDESS clip (16 kHz FLAC) re-encoded as a voice note, decoded back by the real ffmpeg.
    from inference.audio import find_ffmpeg
    from inference.labels import CANONICAL_LABELS

    clip = sorted((shared_data / "ravdess" / "Actor_01").glob("*.flac"))[0]
    note = tmp_path / "note.ogg"
    subprocess.run(
        [
            find_ffmpeg(),
            "-v",
            "error",
            "-i",
            str(clip),
            "-c:a",
            "libopus",
            "-b:a",
            "24k",
            str(note),
        ],
        check=True,
        timeout=60,
    )
    result = _classify("--json", str(note), model=None, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["model"].startswith("compact:")
    assert record["label"] in CANONICAL_LABELS
    assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)

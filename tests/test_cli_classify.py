"""`voicemood classify` end to end: the installed console command, real files, a real model folder."""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.subprocess_env import voicemood_env


def _classify(
    *args: str, model: Path | str | None, cwd: Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = voicemood_env()
    if model is not None:
        env["VOICEMOOD_MODEL"] = str(model)
    env.update(extra_env)
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


def test_a_missing_file_fails_before_the_model_loads(tmp_path):
    # A model setting that would fail to load: the answer is about the file, not the model.
    for flag in ((), ("--json",)):
        result = _classify(
            *flag, "no-such-note.ogg", model=tmp_path / "no-such-model", cwd=tmp_path
        )
        assert result.returncode == 1, result.stderr
        assert "No such file: no-such-note.ogg" in result.stdout
        assert "VOICEMOOD_MODEL" not in result.stderr + result.stdout


def test_configuring_logs_does_not_import_transformers_that_the_default_model_never_uses(
    tiny_hubert_dir,
):
    from inference.models import uses_transformers

    probe = (
        "import logging, sys\n"
        "from voicemood.logs import configure_logging\n"
        "configure_logging(logging.WARNING, False)\n"
        "print('transformers' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=voicemood_env()
    )
    assert result.stdout.strip() == "False", result.stderr
    assert not uses_transformers(None) and not uses_transformers("compact")
    assert uses_transformers(str(tiny_hubert_dir))
    assert uses_transformers("superb/hubert-large-superb-er")


def test_a_hub_id_without_a_network_says_so_and_how_to_fetch_it(tmp_path, make_audio):
    # HF_HUB_OFFLINE makes "no network" certain whatever this machine can reach; an empty
    # cache makes sure the id is not already downloaded.
    note = make_audio("voice.ogg", 1.0)
    result = _classify(
        str(note),
        model="superb/hubert-large-superb-er",
        cwd=tmp_path,
        HF_HUB_OFFLINE="1",
        HF_HUB_CACHE=str(tmp_path / "hub-cache"),
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        "no network to fetch superb/hubert-large-superb-er; download it where you have one and "
        "point VOICEMOOD_MODEL at the folder" in result.stderr
    )
    assert "Retrying" not in result.stderr


def test_a_hub_id_already_in_the_cache_answers_without_a_network(
    tiny_hubert_dir, tmp_path, make_audio
):
    # The hub cache's own layout: models--ORG--NAME/snapshots/REVISION/ and refs/main.
    cache = tmp_path / "hub-cache"
    repo = cache / "models--voicemood-test--tiny-hubert"
    revision = "0" * 40
    shutil.copytree(tiny_hubert_dir, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    note = make_audio("voice.ogg", 1.0)
    result = _classify(
        "--json",
        str(note),
        model="voicemood-test/tiny-hubert",
        cwd=tmp_path,
        HF_HUB_OFFLINE="1",
        HF_HUB_CACHE=str(cache),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"] == "hf:voicemood-test/tiny-hubert"


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
    assert record["model"].startswith("whisper-head:")
    assert record["label"] in CANONICAL_LABELS
    assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)


def _settings(model: Path, **values):
    from voicemood.settings import Settings

    return Settings(_env_file=None, model=str(model), tune_allocator=False, **values)


def test_three_hundred_files_are_all_answered_in_input_order_and_none_busy(
    tiny_hubert_dir, make_audio, tmp_path, capsys
):
    # In-process with a tiny model: the console command's own run(), 300 real files. Every 7th
    # is a 14 s spoken note of several windows (answered later than the short ones around it), every 50th
    # is missing (answered at once), and the queue holds only 8 clips: all starting at once
    # would be refused as "busy", and answers printed as they finish would come out of order.
    from voicemood.commands import classify

    short = make_audio("short.ogg", 2.0)
    long = make_audio("long.ogg", 14.0, seed=3, spoken=True)
    files = []
    for i in range(300):
        path = tmp_path / f"note-{i:03d}.ogg"
        if i % 50 != 49:
            path.symlink_to(long if i % 7 == 0 else short)
        files.append(path)
    # The command's own parser, so every option it reads has its default.
    parser = argparse.ArgumentParser()
    classify.add_arguments(parser)
    args = parser.parse_args(["--json", *map(str, files)])
    status = classify.run(args, _settings(tiny_hubert_dir, queue_size=8, max_batch=2))
    assert status == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in records] == [str(p) for p in files]
    assert not [r for r in records if r.get("code") == "busy"]
    for i, record in enumerate(records):
        if i % 50 == 49:
            assert record["code"] == "file"
        else:
            assert record["duration_s"] == pytest.approx(14.0 if i % 7 == 0 else 2.0, abs=0.15)
            assert (len(record["timeline"]) > 0) == (i % 7 == 0)


async def test_the_first_answer_comes_before_every_file_has_been_started(
    tiny_hubert_dir, make_audio, tmp_path
):
    # Streaming with bounded memory: the first file's answer is out while at most a few files
    # have reached the model, not after all of them were collected.
    from voicemood.commands.classify import _classify_all, _files_in_flight
    from voicemood.wiring import build_analyzer

    note = make_audio("note.ogg", 1.0)
    files = [note] * 200
    analyzer = build_analyzer(_settings(tiny_hubert_dir, queue_size=64, max_batch=4))
    async with analyzer.worker:
        outcomes = _classify_all(analyzer, files)
        first_path, first = await anext(outcomes)
        assert first_path == note and first.duration_s == pytest.approx(1.0, abs=0.1)
        assert analyzer.worker.stats.processed <= _files_in_flight(64, 4) < len(files)
        rest = [outcome async for _, outcome in outcomes]
    assert len(rest) == 199 and all(r.duration_s == first.duration_s for r in rest)


def test_same_speaker_hears_each_note_against_the_others_and_answers_every_one(
    make_audio, tmp_path
):
    notes = [make_audio(f"note{i}.ogg", 2.0 + 0.3 * i, seed=i) for i in range(4)]
    plain = _classify("--json", *map(str, notes), model=None, cwd=tmp_path)
    same = _classify("--json", "--same-speaker", *map(str, notes), model=None, cwd=tmp_path)
    assert plain.returncode == 0 and same.returncode == 0, same.stderr
    before = [json.loads(line) for line in plain.stdout.splitlines()]
    after = [json.loads(line) for line in same.stdout.splitlines()]
    assert [r["file"] for r in after] == [str(n) for n in notes]
    assert all(r["model"].startswith("whisper-head:") for r in after)
    # Against the speaker's own usual voice the probabilities move; without it they would not.
    moved = [
        max(abs(a["probabilities"][k] - b["probabilities"][k]) for k in a["probabilities"])
        for a, b in zip(after, before, strict=True)
    ]
    assert max(moved) > 0.01, moved


def test_same_language_and_a_named_language_hear_notes_against_that_languages_voices(
    make_audio, tmp_path
):
    notes = [make_audio(f"note{i}.ogg", 2.0 + 0.3 * i, seed=i) for i in range(4)]
    runs = {
        name: _classify("--json", *flags, *map(str, notes), model=None, cwd=tmp_path)
        for name, flags in (
            ("plain", ()),
            ("same", ("--same-language",)),
            ("ko", ("--language", "ko")),
            ("xx", ("--language", "xx")),
        )
    }
    assert all(r.returncode == 0 for r in runs.values()), runs["same"].stderr
    answers = {
        name: [json.loads(line)["probabilities"] for line in r.stdout.splitlines()]
        for name, r in runs.items()
    }

    def moved(name: str) -> float:
        return max(
            abs(a[k] - b[k])
            for a, b in zip(answers[name], answers["plain"], strict=True)
            for k in a
        )

    # The voices of the notes' own language (the others, unlabelled), or Korean's shipped
    # statistics, move the answers; a language the model never trained on is answered less
    # surely (its stranger temperature), in the same order.
    assert moved("same") > 0.01 and moved("ko") > 0.01
    for stranger, plain in zip(answers["xx"], answers["plain"], strict=True):
        assert max(stranger, key=stranger.get) == max(plain, key=plain.get)
        assert max(stranger.values()) < max(plain.values()) - 0.01


def test_a_folder_argument_is_called_a_folder_not_a_missing_file(tiny_hubert_dir, tmp_path):
    (tmp_path / "notes").mkdir()
    result = _classify("notes", model=tiny_hubert_dir, cwd=tmp_path)
    assert result.returncode == 1
    assert "notes is a folder, not an audio file" in result.stdout
    assert "No such file" not in result.stdout


def test_a_file_without_audio_gets_the_same_sentence_in_text_and_json(tiny_hubert_dir, tmp_path):
    (tmp_path / "notes.txt").write_text("not a recording\n")
    text = _classify("notes.txt", model=tiny_hubert_dir, cwd=tmp_path)
    as_json = _classify("--json", "notes.txt", model=tiny_hubert_dir, cwd=tmp_path)
    record = json.loads(as_json.stdout)
    assert record["code"] == "undecodable"
    assert text.stdout.strip() == f"notes.txt: {record['error']}"


def test_transcript_flag_adds_the_words_and_their_language_to_the_json(
    shared_data, tiny_hubert_dir, tmp_path
):
    clip = shared_data / "ravdess" / "Actor_18" / "03-01-01-01-02-01-18.flac"

    plain = _classify("--json", str(clip), model=tiny_hubert_dir, cwd=tmp_path)
    words = _classify("--json", "--transcript", str(clip), model=tiny_hubert_dir, cwd=tmp_path)

    assert words.returncode == 0, words.stderr
    record = json.loads(words.stdout)
    assert record["language"] == "en"
    assert "dogs are sitting by the door" in record["transcript"].lower()
    assert record["label"] == json.loads(plain.stdout)["label"]
    assert "transcript" not in json.loads(plain.stdout)

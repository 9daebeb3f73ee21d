"""`voicemood retrain`: feedback refits the Whisper head behind a guard set, and the folder it
writes appears at once. Real recordings from ../shared/data, the real packaged encoder, a
temporary embedding cache, no augmented copies (to stay fast)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from data_augment.datasets import Clip, read_emodb, read_ravdess, write_manifest
from data_augment.retrain import REPORT_FILE, RetrainError, publish_folder
from inference.models import BUNDLED_DIR, HEAD_MARKER, load_model
from inference.models.whisper_head import HEAD_WEIGHTS, WhisperHeadModel
from tests import audio_factory
from voicemood.cli import main

LABELS = ("neutral", "happy", "sad", "angry")
# A wrong label for every right one: feedback that can only teach the head to mishear.
SWAPPED = {"neutral": "angry", "angry": "neutral", "happy": "sad", "sad": "happy"}
ACTED = [f"ravdess:{n:02d}" for n in range(1, 7)]
GUARD = ["ravdess:05", "ravdess:06"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def data(shared_data, tmp_path_factory) -> dict[str, Path]:
    """A small acted manifest (6 RAVDESS actors), honest EmoDB feedback and mislabelled feedback."""
    folder = tmp_path_factory.mktemp("data")
    ravdess = [c for c in read_ravdess(shared_data / "ravdess") if c.label in LABELS]
    acted = [c for c in ravdess if c.speaker in ACTED][::2]
    honest = [
        c
        for c in read_emodb(shared_data / "emodb")
        if c.label in LABELS and c.speaker in ("emodb:03", "emodb:08", "emodb:09")
    ][::2]
    wrong = [
        Clip(c.path, SWAPPED[c.label], c.speaker, "feedback")
        for c in ravdess
        if c.speaker in ("ravdess:07", "ravdess:08", "ravdess:09")
    ][::2]
    paths = {}
    for name, clips in (("acted", acted), ("honest", honest), ("wrong", wrong)):
        paths[name] = folder / f"{name}.csv"
        write_manifest(clips, paths[name])
    return paths


def _retrain(data, out, cache_dir, monkeypatch, feedback: str, *extra: str) -> int:
    monkeypatch.setenv("VOICEMOOD_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("VOICEMOOD_MODEL", raising=False)
    return main(
        [
            "retrain",
            "--feedback",
            str(data[feedback]),
            "--dataset",
            str(data["acted"]),
            "--guard-speakers",
            *GUARD,
            "--augment-copies",
            "0",
            "--out",
            str(out),
            *extra,
        ]
    )


def test_retrain_with_honest_feedback_writes_a_folder_the_bot_can_load(
    data, cache_dir, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "retrained"
    # Two guard actors make 28 clips, where one clip moves UAR by ~0.03: a wider margin here.
    extra = ("--version", "t1", "--guard-margin", "0.1")
    assert _retrain(data, out, cache_dir, monkeypatch, "honest", *extra) == 0
    printed = capsys.readouterr().out
    assert "guard passed" in printed and "held-out feedback UAR" in printed

    model = load_model(str(out), cache_dir=cache_dir)
    assert isinstance(model, WhisperHeadModel) and model.name == "whisper-head:t1"
    assert set(model.labels) == set(LABELS)
    rows = model.predict([audio_factory.speechlike(2.0, seed=3)])
    assert rows.shape == (1, 4) and np.isclose(rows.sum(), 1.0, atol=1e-5)
    report = json.loads((out / REPORT_FILE).read_text())
    assert report["passed"] and report["guard_speakers"] == GUARD
    assert report["feedback_speakers"] == 3 and report["heldout_feedback"]["speakers"] == 1
    for part in ("guard", "heldout_feedback"):
        assert 0.0 <= report[part]["new"]["overall"]["uar"] <= 1.0
        assert 0.0 <= report[part]["old"]["overall"]["uar"] <= 1.0
    # No staging folder is left beside the run folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retrained"]
    # The card records counts of feedback, never the people who gave it.
    card = json.loads((out / HEAD_MARKER).read_text())
    assert card["training"]["feedback"]["speakers"] == 3
    assert "emodb:03" not in json.dumps(card)


def test_feedback_that_breaks_the_guard_is_refused_and_the_live_model_is_untouched(
    data, cache_dir, tmp_path, monkeypatch, capsys
):
    live = tmp_path / "live"
    shutil.copytree(BUNDLED_DIR, live)
    before = {p.name: p.read_bytes() for p in live.iterdir()}
    fresh = tmp_path / "fresh"

    for out in (live, fresh):
        status = _retrain(data, out, cache_dir, monkeypatch, "wrong", "--feedback-weight", "50")
        assert status == 1
        err = capsys.readouterr().err
        assert "worse on the guard set" in err and "nothing was written" in err

    assert {p.name: p.read_bytes() for p in live.iterdir()} == before
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live"]


def test_retrain_refuses_to_write_over_a_folder_that_is_not_a_model(
    data, cache_dir, tmp_path, monkeypatch, capsys
):
    (tmp_path / "notes.txt").write_text("mine")
    assert _retrain(data, tmp_path, cache_dir, monkeypatch, "honest") == 2
    assert "not a model head folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_publishing_over_a_head_folder_swaps_it_whole(tmp_path):
    live = tmp_path / "live"
    shutil.copytree(BUNDLED_DIR, live)
    (live / "old_extra.txt").write_text("from the old run")

    def write(folder: Path) -> None:
        # Whatever the writer sees is the staging folder, never the live one.
        assert folder.parent == live.parent and folder.name.startswith(".live.")
        assert not (live / "new.txt").exists()
        shutil.copyfile(BUNDLED_DIR / HEAD_MARKER, folder / HEAD_MARKER)
        shutil.copyfile(BUNDLED_DIR / HEAD_WEIGHTS, folder / HEAD_WEIGHTS)
        (folder / "new.txt").write_text("from the new run")

    publish_folder(live, write)
    assert sorted(p.name for p in live.iterdir()) == sorted([HEAD_MARKER, HEAD_WEIGHTS, "new.txt"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live"]


def test_a_writer_that_fails_leaves_the_live_folder_and_no_staging_behind(tmp_path):
    live = tmp_path / "live"
    shutil.copytree(BUNDLED_DIR, live)
    before = {p.name: p.read_bytes() for p in live.iterdir()}

    def write(folder: Path) -> None:
        (folder / HEAD_MARKER).write_text("{")
        raise RetrainError("disk full")

    with pytest.raises(RetrainError):
        publish_folder(live, write)
    assert {p.name: p.read_bytes() for p in live.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live"]


async def test_a_bot_watching_the_out_folder_takes_the_published_head_whole(tmp_path):
    from inference.reload import ModelReloader, ReloadConfig
    from inference.worker import InferenceWorker

    live = shutil.copytree(BUNDLED_DIR, tmp_path / "live")
    link = tmp_path / "current"
    link.symlink_to(live)  # operators often point VOICEMOOD_MODEL at a link
    cache = tmp_path / "cache"
    worker = InferenceWorker(load_model(str(link), cache_dir=cache))
    reloader = ModelReloader(worker, ReloadConfig(str(link), watch_s=3600, cache_dir=cache))

    def write(folder: Path) -> None:
        card = json.loads((BUNDLED_DIR / HEAD_MARKER).read_text())
        card["version"] = "retrained"
        shutil.copyfile(BUNDLED_DIR / HEAD_WEIGHTS, folder / HEAD_WEIGHTS)
        (folder / HEAD_MARKER).write_text(json.dumps(card))

    async with worker:
        publish_folder(link, write)
        assert not await reloader.poll()  # changed: held for one interval first
        assert await reloader.poll()
        assert worker.name == "whisper-head:retrained"
    assert link.is_symlink() and link.resolve() == live
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "current", "live"]


def test_feedback_speakers_are_split_into_donors_and_held_out_only_when_there_are_two():
    from data_augment.retrain import split_feedback_speakers

    def clips(n: int) -> list[Clip]:
        return [Clip(Path(f"{i}.ogg"), "sad", f"telegram:{i}", "manifest") for i in range(n)]

    assert split_feedback_speakers(clips(1), 1 / 3, seed=0) == (["telegram:0"], [])
    for n, held in ((2, 1), (3, 1), (9, 3)):
        donors, heldout = split_feedback_speakers(clips(n), 1 / 3, seed=0)
        assert len(heldout) == held and len(donors) == n - held
        assert not set(donors) & set(heldout)

"""Hot reload: a new model written into the model folder is taken without a restart or a lost note.

Model folders are real compact models (save_model) loaded through the real loading code; notes are
real OGG/Opus files decoded by the real ffmpeg.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from inference.analysis import AnalysisConfig, Analyzer, split_windows
from inference.audio import decode_async
from inference.models import COMPACT_MARKER
from inference.models.compact import WEIGHTS_FILE, CompactModel
from inference.reload import ModelReloader, ReloadConfig, watched_folder
from inference.worker import InferenceWorker, WorkerConfig
from tests.audio_factory import speechlike
from tests.model_factory import LABELS, compact_folder

OLD = "2026.11.29"
NEW = "2026.11.30-retrained"
WINDOW_S = 1.0  # several windows per note, so a note that mixed models would show it


class Held:
    """A loaded model that holds its first batch until `gate` opens, so notes pile up behind it."""

    def __init__(self, model: CompactModel) -> None:
        self.model = model
        self.name = model.name
        self.labels = model.labels
        self.gate = threading.Event()
        self.first_batch: int | None = None

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        if self.first_batch is None:
            self.first_batch = len(batch)
            self.gate.wait(timeout=60)
        return self.model.predict(batch)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for `condition`; the limit only stops a broken test from hanging."""
    async with asyncio.timeout(60):
        while not condition():  # noqa: ASYNC110 - the worker's counters signal nothing
            await asyncio.sleep(0.01)
    assert condition(), what


async def answer_alone(folder: Path, note: Path) -> np.ndarray:
    """What the model in `folder`, alone on its own worker, says about `note`."""
    async with InferenceWorker(CompactModel.load(folder)) as worker:
        prediction = await Analyzer(worker, AnalysisConfig(window_s=WINDOW_S)).analyse(note)
    return np.array([prediction.probabilities[label] for label in LABELS])


async def test_a_burst_of_notes_survives_a_reload_and_each_note_hears_one_model(
    make_audio, tmp_path
):
    note = make_audio("note.ogg", 5.0)
    windows = len(split_windows(await decode_async(note), WINDOW_S))
    assert windows >= 3
    live = compact_folder(tmp_path / "model", OLD, seed=1)
    retrained = compact_folder(tmp_path / "retrained", NEW, seed=2)
    expected = {
        f"compact:{OLD}": await answer_alone(live, note),
        f"compact:{NEW}": await answer_alone(retrained, note),
    }
    # Otherwise a note that mixed the two models could not be told from a pure one.
    assert np.abs(expected[f"compact:{OLD}"] - expected[f"compact:{NEW}"]).max() > 0.01

    held = Held(CompactModel.load(live))
    worker = InferenceWorker(held, WorkerConfig(max_queue=1000, max_batch=3))
    analyzer = Analyzer(worker, AnalysisConfig(window_s=WINDOW_S))
    reloader = ModelReloader(worker, ReloadConfig(str(live), watch_s=0.05))
    # The last old batch has room for new windows, so a worker that let models share a pass would
    # run some of them on the old model.
    assert (20 * windows) % 3 != 0
    try:
        async with worker, reloader:
            # A lone clip holds the worker's thread while every note queues up behind it.
            holder = asyncio.create_task(worker.predict(speechlike(0.5)))
            await until(lambda: held.first_batch == 1, "the worker never started")
            before = [asyncio.create_task(analyzer.analyse(note)) for _ in range(20)]
            await until(lambda: worker.stats.queued == 20 * windows, "notes were not admitted")
            compact_folder(live, NEW, seed=2)  # retraining writes into the watched folder
            await until(lambda: worker.name == f"compact:{NEW}", "the new model never came in")
            after = [asyncio.create_task(analyzer.analyse(note)) for _ in range(20)]
            await until(lambda: worker.stats.queued == 40 * windows, "notes were not admitted")
            held.gate.set()
            answers = await asyncio.gather(*before, *after)
            await holder
    finally:
        held.gate.set()

    assert [a.model for a in answers] == [f"compact:{OLD}"] * 20 + [f"compact:{NEW}"] * 20
    for answer in answers:
        got = np.array([answer.probabilities[label] for label in LABELS])
        np.testing.assert_allclose(got, expected[answer.model], atol=1e-5)
    assert worker.stats.failed == 0
    assert worker.stats.processed == 40 * windows + 1


async def test_a_folder_that_fails_to_load_keeps_the_old_model_serving(
    make_audio, tmp_path, caplog
):
    note = make_audio("note.ogg", 2.0)
    live = compact_folder(tmp_path / "model", OLD, seed=1)
    worker = InferenceWorker(CompactModel.load(live))
    reloader = ModelReloader(worker, ReloadConfig(str(live), watch_s=0.05))
    with caplog.at_level(logging.WARNING, logger="voicemood.reload"):
        async with worker, reloader:
            compact_folder(live, NEW, seed=2)
            (live / WEIGHTS_FILE).write_bytes(b"\x00corrupt" * 100)
            await until(
                lambda: "could not load the new model" in caplog.text, "no warning was logged"
            )
            answer = await Analyzer(worker).analyse(note)
            assert worker.name == answer.model == f"compact:{OLD}"
            assert f"still serving compact:{OLD}" in caplog.text

            # Mended, the folder is taken: the watcher did not stop at the broken one.
            compact_folder(live, NEW, seed=2)
            await until(lambda: worker.name == f"compact:{NEW}", "the mended model never came in")
            assert (await Analyzer(worker).analyse(note)).model == f"compact:{NEW}"


async def test_a_half_written_folder_is_loaded_only_once_it_holds_still(tmp_path, caplog):
    live = compact_folder(tmp_path / "model", OLD, seed=1)
    compact_folder(tmp_path / "retrained", NEW, seed=2)
    worker = InferenceWorker(CompactModel.load(live))
    # Polled by hand (no watching task), so the test decides when an interval has passed.
    reloader = ModelReloader(worker, ReloadConfig(str(live), watch_s=3600))
    weights = (tmp_path / "retrained" / WEIGHTS_FILE).read_bytes()

    with caplog.at_level(logging.WARNING, logger="voicemood.reload"):
        # The marker is new, the weights only half there: changed since the last look.
        (live / COMPACT_MARKER).write_bytes((tmp_path / "retrained" / COMPACT_MARKER).read_bytes())
        (live / WEIGHTS_FILE).write_bytes(weights[: len(weights) // 2])
        assert not await reloader.poll()
        # The rest of the weights arrive: changed again, so still not loaded.
        (live / WEIGHTS_FILE).write_bytes(weights)
        assert not await reloader.poll()
        assert worker.name == f"compact:{OLD}"
        # Unchanged for a whole interval: now it is loaded, once.
        assert await reloader.poll()
        assert worker.name == f"compact:{NEW}"
        assert not await reloader.poll()
    assert "could not load" not in caplog.text  # the half-written folder was never tried


async def test_reload_on_request_takes_the_folder_even_with_watching_off(tmp_path, caplog):
    live = compact_folder(tmp_path / "model", OLD, seed=1)
    worker = InferenceWorker(CompactModel.load(live))
    reloader = ModelReloader(worker, ReloadConfig(str(live), watch_s=0))
    assert reloader.folder is None  # nothing is polled
    compact_folder(live, NEW, seed=2)
    with caplog.at_level(logging.INFO, logger="voicemood.reload"):
        assert await reloader.reload()
    assert worker.name == f"compact:{NEW}"
    assert f"compact:{OLD} -> compact:{NEW}" in caplog.text


def test_only_a_local_folder_is_watched(tmp_path):
    from inference.models import BUNDLED_DIR

    assert watched_folder(str(tmp_path)) == tmp_path
    assert watched_folder(None) is None
    assert watched_folder("bundled") is None
    assert watched_folder(str(BUNDLED_DIR)) is None
    assert watched_folder("superb/hubert-large-superb-er") is None


def test_the_settings_choose_what_is_watched_and_how_often(tmp_path):
    from voicemood.settings import Settings
    from voicemood.wiring import build_reloader

    live = compact_folder(tmp_path / "model", OLD, seed=1)
    worker = InferenceWorker(CompactModel.load(live))
    watching = build_reloader(Settings(model=str(live), model_watch_s=2), worker)
    assert watching.folder == live and watching.config.watch_s == 2
    # A reloaded Whisper head goes over the configured encoder, assembled in the configured cache.
    settings = Settings(model=str(live), encoder="enc", cache_dir=tmp_path / "cache")
    config = build_reloader(settings, worker).config
    assert (config.encoder, config.cache_dir) == ("enc", tmp_path / "cache")
    assert build_reloader(Settings(model=str(live), model_watch_s=0), worker).folder is None
    assert build_reloader(Settings(model=None), worker).folder is None


async def test_a_head_folder_whose_marker_changes_is_reloaded_over_the_same_encoder(tmp_path):
    import json
    import shutil

    from inference.models import BUNDLED_DIR, HEAD_MARKER, load_model
    from inference.models.whisper_head import WhisperHeadModel

    live = shutil.copytree(BUNDLED_DIR, tmp_path / "model")
    cache = tmp_path / "cache"
    old = load_model(str(live), cache_dir=cache)
    assert isinstance(old, WhisperHeadModel)
    worker = InferenceWorker(old)
    reloader = ModelReloader(worker, ReloadConfig(str(live), watch_s=3600, cache_dir=cache))
    # Only the marker changes (a new version and temperature, the same weights): it is a model
    # file, so the watcher must see it.
    card = json.loads((live / HEAD_MARKER).read_text())
    card["version"], card["temperature"] = NEW, 2.0
    (live / HEAD_MARKER).write_text(json.dumps(card))
    async with worker:
        assert not await reloader.poll()  # changed since the last look: wait one interval
        assert await reloader.poll()
        assert worker.name == f"whisper-head:{NEW}"
        new = worker.model
        assert isinstance(new, WhisperHeadModel) and new.card.temperature == 2.0
        assert new.encoder is old.encoder  # not a second copy of the encoder in memory
        assert (await worker.predict(speechlike(1.0))).shape == (len(new.labels),)

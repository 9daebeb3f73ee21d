import numpy as np
import pytest

from inference.analysis import AnalysisConfig, Analyzer, split_windows
from inference.audio import Audio
from inference.models.hf import HFAudioClassifier
from inference.worker import InferenceWorker, WorkerConfig
from tests.audio_factory import speechlike


def _audio(seconds: float) -> Audio:
    return Audio(speechlike(seconds))


def test_a_short_note_is_one_window():
    assert split_windows(_audio(5.0), 4.0) == [(0, 80_000)]


def test_a_long_note_is_cut_into_equal_windows_covering_the_end():
    windows = split_windows(_audio(14.0), 4.0)
    assert {b - a for a, b in windows} == {64_000}
    assert windows[0][0] == 0 and windows[-1][1] == 14 * 16_000
    assert len(windows) == 4  # 0-4, 4-8, 8-12, and 10-14 for the 2 s tail


def test_a_short_tail_is_not_given_its_own_window():
    windows = split_windows(_audio(13.0), 4.0)
    assert windows[-1] == (8 * 16_000, 12 * 16_000)


def test_silent_windows_are_left_out():
    samples = np.concatenate([speechlike(4.0), np.zeros(64_000, np.float32), speechlike(4.0)])
    windows = split_windows(Audio(samples), 4.0)
    assert windows == [(0, 64_000), (128_000, 192_000)]


@pytest.fixture
async def analyzer(tiny_hubert_dir):
    worker = InferenceWorker(HFAudioClassifier.load(str(tiny_hubert_dir)), WorkerConfig())
    async with worker:
        yield Analyzer(worker, AnalysisConfig(window_s=4.0, not_sure_below=0.5))


async def test_a_voice_note_becomes_an_answer_over_the_models_canonical_labels(
    analyzer, make_audio
):
    prediction = await analyzer.analyse(make_audio("note.ogg", 3.0))
    assert set(prediction.probabilities) == {"neutral", "happy", "sad", "angry"}
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
    assert prediction.label == max(prediction.probabilities, key=prediction.probabilities.get)
    assert prediction.duration_s == pytest.approx(3.0, abs=0.1)
    assert prediction.timeline == []
    # A random tiny model is unsure: the answer must say so rather than claim a tone.
    assert prediction.not_sure == (prediction.confidence < 0.5)


async def test_a_long_note_keeps_a_timeline_that_covers_it(analyzer, make_audio):
    prediction = await analyzer.analyse(make_audio("long.ogg", 14.0, seed=3))
    assert prediction.timeline
    assert prediction.timeline[0].start_s == 0.0
    assert prediction.timeline[-1].end_s == pytest.approx(14.0, abs=0.1)
    for before, after in zip(prediction.timeline, prediction.timeline[1:], strict=False):
        assert before.end_s <= after.start_s + 1e-6
        assert before.label != after.label or before.end_s < after.start_s

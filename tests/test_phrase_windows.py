"""A long note is heard phrase by phrase: windows follow the pauses between phrases."""

from __future__ import annotations

import numpy as np

from inference.analysis import phrase_windows, phrase_windows_at_most
from inference.speech import Speech, speech_only

SR = 16_000


def _only(*phrases: tuple[float, float], note_s: float = 60.0):
    """A speech-only note of the given phrases, (start_s, end_s) in the original note, unpadded."""
    speech = Speech(tuple((int(a * SR), int(b * SR)) for a, b in phrases))
    return speech_only(np.zeros(int(note_s * SR), np.float32), speech, pad_s=0.0)


def _seconds(only, windows):
    """The windows as (start_s, end_s) in the original note."""
    return [(only.original(a) / SR, only.original(b) / SR) for a, b in windows]


def test_a_note_of_at_most_one_and_a_half_windows_is_one_window():
    only = _only((1, 3), (4, 7))
    assert phrase_windows(only, 4.0, 1.5) == [(0, len(only.samples))]


def test_each_phrase_long_enough_is_its_own_window():
    only = _only((0, 2), (3, 5.5), (7, 9), (10, 12))
    windows = phrase_windows(only, 4.0, 1.5)
    # Every window ends where the next phrase begins (the cut pause belongs to the one before).
    assert _seconds(only, windows) == [(0, 3), (3, 7), (7, 10), (10, 12)]


def test_a_short_phrase_joins_the_neighbour_behind_the_shorter_pause():
    # 0.8 s of speech 0.4 s after the first phrase and 2 s before the third: it belongs to the first.
    only = _only((0, 2), (2.4, 3.2), (5.2, 7.2), (8, 10))
    assert _seconds(only, phrase_windows(only, 4.0, 1.5)) == [(0, 5.2), (5.2, 8), (8, 10)]
    # The same phrase nearer the third joins that one instead.
    only = _only((0, 2), (4, 4.8), (5.0, 7.0), (8, 10))
    assert _seconds(only, phrase_windows(only, 4.0, 1.5)) == [(0, 4), (4, 8), (8, 10)]


def test_a_long_phrase_is_cut_into_equal_parts_of_about_a_window():
    only = _only((0, 13), (14, 16))
    lengths = [b - a for a, b in phrase_windows(only, 4.0, 1.5)]
    assert len(lengths) == 4 and set(lengths[:3]) == {int(13 / 3 * SR)} | {int(13 / 3 * SR) + 1}
    assert lengths[3] == 2 * SR


def test_windows_cover_the_speech_back_to_back_and_never_exceed_one_and_a_half_windows():
    rng = np.random.default_rng(0)
    for _ in range(50):
        t, phrases = 0.0, []
        for _ in range(int(rng.integers(4, 20))):
            t += float(rng.uniform(0.3, 2.0))
            length = float(rng.uniform(0.3, 9.0))
            phrases.append((t, t + length))
            t += length
        only = _only(*phrases, note_s=t + 1)
        windows = phrase_windows(only, 4.0, 1.5)
        assert windows[0][0] == 0 and windows[-1][1] == len(only.samples)
        assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))
        assert max(b - a for a, b in windows) <= 6 * SR + 1
        # The worker's queue is booked with a bound before the speech is found: it must hold.
        assert len(windows) <= phrase_windows_at_most(len(only.samples), 4.0, 1.5)


def test_short_phrases_boxed_in_by_long_ones_stay_short_and_within_the_bound():
    phrases, t = [], 0.0
    for _ in range(6):  # 5.9 s, a 0.4 s pause, 0.3 s, a 0.4 s pause, ...
        phrases += [(t, t + 5.9), (t + 6.3, t + 6.6)]
        t += 7.0
    only = _only(*phrases, note_s=t)
    windows = phrase_windows(only, 4.0, 1.5)
    assert len(windows) == 12  # no join fits within 1.5 windows
    assert len(windows) <= phrase_windows_at_most(len(only.samples), 4.0, 1.5)


def test_a_cut_between_phrases_maps_to_the_middle_of_the_pause():
    only = _only((1, 3), (7, 9))
    cut = only.starts[1]
    assert only.original(cut) == 7 * SR  # where the later phrase starts
    assert only.boundary(cut) == 5 * SR  # the middle of the 4 s pause
    inside = cut + SR // 2  # a cut inside a phrase stays where it is
    assert only.boundary(inside) == only.original(inside) == int(7.5 * SR)
    assert only.boundary(0) == SR and only.boundary(len(only.samples)) == 9 * SR


def test_the_window_rule_is_a_setting_that_reaches_the_analyzer(
    tiny_hubert_dir, monkeypatch, tmp_path
):
    from voicemood.settings import Settings
    from voicemood.wiring import build_analyzer

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOICEMOOD_MODEL", str(tiny_hubert_dir))
    assert build_analyzer(Settings()).config.windows == "phrases"
    monkeypatch.setenv("VOICEMOOD_WINDOWS", "fixed")
    assert build_analyzer(Settings()).config.windows == "fixed"


def test_a_long_windows_evidence_outweighs_a_short_ones_in_the_timeline():
    from inference.analysis import smooth_labels

    # A short phrase (0.4 of a window) leaning the other way between two long, sure ones.
    rows = np.array([[0.9, 0.1], [0.05, 0.95], [0.9, 0.1]])
    assert smooth_labels(rows, 1.0) == [0, 1, 0]  # unweighted, its log-odds (2.9) beat the cost
    assert smooth_labels(rows, 1.0, np.array([1.5, 0.4, 1.5])) == [0, 0, 0]
    # A long phrase with the same lean is a change worth reporting.
    assert smooth_labels(rows, 1.0, np.array([1.5, 1.5, 1.5])) == [0, 1, 0]

"""A person's corrections fit an adjustment of their answers (inference.personal), behind a guard."""

from __future__ import annotations

import numpy as np

from inference.baseline import SpeakerBaseline
from inference.personal import (
    GUARD_SLACK_PER,
    MIN_CORRECTIONS,
    TONE_PARTS,
    Correction,
    GuardCheck,
    fit_adjustment,
)

DIM, CLASSES = 64, 4


def _voice(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A person's notes: each class a direction away from their usual voice; labels 0..3."""
    directions = rng.standard_normal((CLASSES, DIM)) * 3.0
    labels = np.arange(n) % CLASSES
    x = rng.standard_normal((n, DIM)) + directions[labels]
    return x.astype(np.float32), labels


def _model_says(n: int, label: int, sure: float = 0.7) -> np.ndarray:
    """A model that hears every note of this person as `label`."""
    p = np.full((n, CLASSES), (1.0 - sure) / (CLASSES - 1))
    p[:, label] = sure
    return p


def _baseline(x: np.ndarray) -> SpeakerBaseline:
    mean = x.mean(axis=0)
    return SpeakerBaseline(len(x), mean, np.square(x - mean).sum(axis=0).astype(np.float32))


def test_corrections_move_the_persons_later_notes_toward_what_they_said():
    rng = np.random.default_rng(0)
    x, y = _voice(rng, 48)
    probs = _model_says(len(x), 0)  # the model hears everything as class 0: right a quarter
    earlier, later = slice(0, 8), slice(8, None)
    corrections = [Correction(x[i], probs[i], int(y[i])) for i in range(*earlier.indices(len(x)))]

    adjustment = fit_adjustment(corrections, _baseline(x[earlier]))

    assert adjustment is not None and adjustment.corrections == 8
    assert adjustment.check.right_with > adjustment.check.right_without
    before = np.mean(probs[later].argmax(axis=1) == y[later])
    after = np.mean(adjustment.apply(probs[later], x[later]).argmax(axis=1) == y[later])
    assert before == 0.25 and after >= 0.9
    # Another model's numbers (another width) are not this adjustment's to move.
    other = rng.standard_normal((3, DIM + 1)).astype(np.float32)
    assert np.array_equal(adjustment.apply(probs[:3], other), probs[:3])


def test_too_few_corrections_fit_nothing():
    rng = np.random.default_rng(1)
    x, y = _voice(rng, MIN_CORRECTIONS - 1)
    probs = _model_says(len(x), 0)
    corrections = [Correction(x[i], probs[i], int(y[i])) for i in range(len(x))]
    assert fit_adjustment(corrections) is None


def test_the_guard_refuses_an_adjustment_that_hurts_held_out_corrections():
    rng = np.random.default_rng(2)
    x, y = _voice(rng, 6)
    # Each note twice, voted two different ways: whatever the rest teaches about a note's twin
    # contradicts the note itself, and every tone left out is outnumbered by the others, while
    # the model's own answers matched every vote, if only just.
    twins = np.concatenate([x, x + 0.01 * rng.standard_normal(x.shape).astype(np.float32)])
    votes = np.concatenate([y, (y + 1) % CLASSES])
    probs = np.eye(CLASSES)[votes] * 0.04 + 0.24
    corrections = [Correction(twins[i], probs[i], int(votes[i])) for i in range(len(votes))]

    unguarded = fit_adjustment(corrections, guard=False)

    assert unguarded is not None
    check = unguarded.check
    assert check.right_without == len(votes)
    assert check.right_with < check.right_without and not check.passed
    assert fit_adjustment(corrections) is None  # beyond the guard's slack
    assert fit_adjustment(corrections, bias_alone=True) is None  # nor does the bias alone do


def test_an_all_stages_vector_is_heard_by_its_first_stage_not_by_what_was_said():
    # Like a person reading the same few sentences in every tone: what was said (every later
    # stage) is loud and repeats across tones; the tone is a quiet direction in stage 1's mean.
    rng = np.random.default_rng(4)
    width = 7 * 2 * 512
    tone = TONE_PARTS[width]
    n = 48
    y = np.arange(n) % CLASSES
    sentence = (np.arange(n) // CLASSES) % 6
    tones = np.zeros((CLASSES, width))
    tones[:, tone] = rng.standard_normal((CLASSES, 512)) * 0.8
    said = rng.standard_normal((6, width)) * 3.0
    said[:, tone] = 0.0
    x = (rng.standard_normal((n, width)) + tones[y] + said[sentence]).astype(np.float32)
    probs = _model_says(n, 0)
    earlier, later = np.arange(12), np.arange(12, n)
    corrections = [Correction(x[i], probs[i], int(y[i])) for i in earlier]
    baseline = _baseline(x[earlier])

    adjustment = fit_adjustment(corrections, baseline)
    whole = fit_adjustment(corrections, baseline, part=slice(None), guard=False)

    assert adjustment is not None and whole is not None
    after = np.mean(adjustment.apply(probs[later], x[later]).argmax(axis=1) == y[later])
    after_whole = np.mean(whole.apply(probs[later], x[later]).argmax(axis=1) == y[later])
    assert after >= 0.9 and after_whole < after - 0.2
    # What was said does not move the answer at all: only the tone part is read.
    other_words = x[later].copy()
    other_words[:, tone.stop :] = rng.standard_normal((len(later), width - tone.stop))
    assert np.allclose(adjustment.shift(other_words), adjustment.shift(x[later]))


def test_the_guard_forgives_one_held_out_miss_in_eight_but_not_two():
    def check(right_with: int) -> GuardCheck:
        return GuardCheck(
            n=8, right_without=6, right_with=right_with, loss_without=5.0, loss_with=6.0
        )

    slack = 8 // GUARD_SLACK_PER
    assert slack == 1
    assert check(6).lets_through(slack, ties_pass=False)  # as many right as the model alone
    assert check(5).lets_through(slack, ties_pass=True)  # one fewer: the slack's edge, a tie
    assert not check(5).lets_through(slack, ties_pass=False)  # ... refused unless surer
    assert not check(4).lets_through(slack, ties_pass=True)  # two fewer
    assert not check(5).lets_through(0, ties_pass=True)  # no slack: no fewer right

"""Corrections teach it your voice: a personal adjustment of the answer, fitted on a person's own
corrected notes (issue 20, item 4).

A person with `/baseline on` who corrects an answer (a vote on their own note) leaves a labelled
example of their voice: the note's embedding (numbers, never audio), what the model said before
any adjustment, and the label they chose. From a few of them this module fits a small shift of
the model's logits for that person only:

    logits' = log p + bias + W @ phi(x),   phi(x) = unit((x - centre) / scale)

a per-class bias and an L2-penalised weight correction, written in its kernel form (W is a
weighted sum of the corrections' phi, so a fit works on an n x n matrix, n <= MAX_CORRECTIONS,
and never on the 7,168-wide weights). `centre` and `scale` are the person's own voice baseline, so
phi is their note heard against their usual voice. It needs no model: it reads the probabilities
and embeddings the worker already returns, so it works the same in process and through remote
workers, and over any model that embeds.

Where it reads: of the all-stages Whisper vector (inference.encoder_stages: seven stages, each
its mean then its std over 512 numbers), only the first stage's mean, which carries how a person
sounds rather than what they said (a Korean speaker's notes sorted by the nearest mean of
their labelled ones: 0.63 right from it, 0.00 from the last stage's std, which hears the
sentence, and every sentence was read in every tone). Reading it alone lifted what 8 corrections buy from +2.0-3.7 points to
+4.4-10.5. Other vectors (a head on the last stage, other models) are read whole.

The guard: an adjustment is used only from MIN_CORRECTIONS corrections on, and only when, left
out one at a time, the person's corrections are not heard clearly worse with it than without it
(at most one fewer right per GUARD_SLACK_PER corrections). bench/corrections.py measures what it
buys on the later notes of speakers of languages the head never trained on (+4.4 to +10.5 points
of accuracy after 8 corrections, +8 to +21 after 16), and chose the part, the penalty and the
guard's rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.baseline import SpeakerBaseline

# Fewer corrections than this are too few to check an adjustment on: none is fitted.
MIN_CORRECTIONS = 4
# The most recent corrections a fit reads (older ones are left out, not deleted).
MAX_CORRECTIONS = 32
# The penalty on the weight correction and on the bias (bench/corrections.py chose them).
WEIGHT_PENALTY = 0.003
BIAS_PENALTY = 0.1
_STEPS = 200
# Whether an adjustment that gets as many held-out corrections right as the model alone passes
# even when it is less sure of them (bench/corrections.py measured both).
TIES_PASS = True
# The guard lets an adjustment through that gets one fewer held-out correction right per this
# many corrections (one miss among 8 is noise; refusing it cost Korean 2 of its 10 points).
GUARD_SLACK_PER = 8
# The part of a vector, by its width, that a person's adjustment reads (see the docstring): of
# the all-stages vector (7 stages x (mean, std) x 512), the first stage's mean.
TONE_PARTS = {7 * 2 * 512: slice(0, 512)}
# A baseline this young has too noisy a spread to scale by: the corrections' own is used.
_MIN_BASELINE_NOTES = 5


@dataclass(frozen=True)
class Correction:
    """One corrected note: its embedding, the model's own probabilities for it, the label given."""

    embedding: np.ndarray  # (dim,)
    probabilities: np.ndarray  # (classes,) in the model's label order, before any adjustment
    label: int  # index into the model's labels


@dataclass(frozen=True)
class GuardCheck:
    """What the held-out check found: right answers out of `n`, without and with the adjustment."""

    n: int
    right_without: int
    right_with: int
    loss_without: float
    loss_with: float

    @property
    def passed(self) -> bool:
        """Strictly better: more right, or as many right and surer of them."""
        return self.lets_through(0, ties_pass=False)

    def lets_through(self, slack: int, ties_pass: bool) -> bool:
        """At most `slack` fewer right than without; exactly that many only if ties pass or surer."""
        floor = self.right_without - slack
        if self.right_with != floor:
            return self.right_with > floor
        return ties_pass or self.loss_with < self.loss_without


@dataclass(frozen=True)
class PersonalAdjustment:
    """A fitted shift of one person's logits; `apply` is what the analysis calls."""

    dim: int  # the width of the vectors it adjusts
    part: slice  # the part of them it reads
    centre: np.ndarray  # (part,)
    scale: np.ndarray  # (part,)
    support: np.ndarray  # (n, part): the corrections' phi
    coef: np.ndarray  # (n, classes)
    bias: np.ndarray  # (classes,)
    check: GuardCheck

    @property
    def corrections(self) -> int:
        return int(self.support.shape[0])

    def shift(self, embeddings: np.ndarray) -> np.ndarray:
        """The logit shift for embeddings (m, dim)."""
        phi = _phi(np.atleast_2d(embeddings)[:, self.part], self.centre, self.scale)
        return (phi @ self.support.T) @ self.coef + self.bias

    def apply(self, probabilities: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """The probabilities (m, classes) of notes (m, dim) with this person's adjustment."""
        if embeddings.shape[-1] != self.dim:
            return probabilities  # another model's numbers: not this adjustment's to move
        logp = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-9, None))
        return softmax_rows(logp + self.shift(embeddings)).astype(np.float32)


def fit_adjustment(
    corrections: Sequence[Correction],
    baseline: SpeakerBaseline | None = None,
    *,
    weight_penalty: float = WEIGHT_PENALTY,
    bias_penalty: float = BIAS_PENALTY,
    min_corrections: int = MIN_CORRECTIONS,
    guard: bool = True,
    ties_pass: bool = TIES_PASS,
    slack_per: float = GUARD_SLACK_PER,
    bias_alone: bool = False,
    part: slice | None = None,
) -> PersonalAdjustment | None:
    """The person's adjustment from their corrections, or None when too few or the guard refuses.

    `baseline` (the person's usual voice) centres and scales the embeddings; without a grown one
    the corrections' own mean and spread do. `part` is the part of the vectors read (None: the
    width's TONE_PARTS entry, else the whole); `bias_alone` also tries a bias without the weight
    correction. `guard=False` skips the held-out check. The keywords are for
    bench/corrections.py, which measures what each is worth.
    """
    corrections = list(corrections)[-MAX_CORRECTIONS:]
    if len(corrections) < min_corrections:
        return None
    full = np.stack([np.asarray(c.embedding, np.float64) for c in corrections])
    dim = full.shape[1]
    part = TONE_PARTS.get(dim, slice(None)) if part is None else part
    x = full[:, part]
    logp = np.log(np.clip(np.stack([c.probabilities for c in corrections]), 1e-9, None))
    y = np.array([c.label for c in corrections])
    centre, scale = _standardiser(x, baseline, dim, part)
    phi = _phi(x, centre, scale)
    kernel = phi @ phi.T
    # Each candidate is checked on held-out corrections: the weight correction with its bias and,
    # if asked, the bias alone (measured: once the tone part is read, offering the bias alone
    # only lost points). The better one that passes is used.
    candidates = [(weight_penalty, _held_out(kernel, logp, y, weight_penalty, bias_penalty))]
    if bias_alone and np.isfinite(weight_penalty):
        candidates.append((np.inf, _held_out(kernel, logp, y, np.inf, bias_penalty)))
    penalty, check = max(candidates, key=lambda c: (c[1].right_with, -c[1].loss_with))
    slack = int(len(y) // slack_per) if slack_per > 0 else 0
    if not guard:
        penalty, check = candidates[0]
    elif not check.lets_through(slack, ties_pass):
        return None
    coef, bias = _fit(kernel, logp, y, penalty, bias_penalty)
    return PersonalAdjustment(
        dim, part, centre.astype(np.float32), scale.astype(np.float32), phi, coef[0], bias[0], check
    )


def _standardiser(
    x: np.ndarray, baseline: SpeakerBaseline | None, dim: int, part: slice
) -> tuple[np.ndarray, np.ndarray]:
    if baseline is not None and baseline.count >= _MIN_BASELINE_NOTES and baseline.dim == dim:
        centre = np.asarray(baseline.mean, np.float64)[part]
        std = np.sqrt(np.asarray(baseline.variance, np.float64)[part])
    else:
        centre, std = x.mean(axis=0), x.std(axis=0)
    # A dimension that barely moves for this person must not blow up when it does.
    floor = max(float(np.median(std)) * 0.1, 1e-6)
    return centre, np.maximum(std, floor)


def _phi(x: np.ndarray, centre: np.ndarray, scale: np.ndarray) -> np.ndarray:
    z = (np.asarray(x, np.float64) - centre) / scale
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-9)


def _fit(
    kernel: np.ndarray,
    logp: np.ndarray,
    y: np.ndarray,
    penalty: float,
    bias_penalty: float,
    masks: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel coefficients and bias minimising mean cross-entropy + penalties (gradient descent).

    The loss is mean cross-entropy + penalty/2 |W|^2 + bias_penalty/2 |bias|^2 (an infinite
    penalty: a bias alone). With unit-length phi its curvature is at most 1 + penalty, so a step
    of 1 / (1 + penalty) never overshoots; the fit is strictly convex, so it has one answer,
    which _STEPS accelerated steps reach for any penalty down to 1e-3.
    `masks` (folds, n) fits one adjustment per row of it at once, each on the corrections its
    row marks: coefficients (folds, n, classes), biases (folds, classes).
    """
    n, classes = logp.shape
    masks = np.ones((1, n)) if masks is None else masks
    target = np.eye(classes)[y]
    # A left-out correction reaches no other's logits (its column is zero), nor the loss.
    kernels = kernel[None] * masks[:, None, :]
    weight = masks[:, :, None] / masks.sum(axis=1)[:, None, None]
    coef = np.zeros((len(masks), n, classes))
    bias = np.zeros((len(masks), 1, classes))
    weights = np.isfinite(penalty)
    smallest = min(penalty if weights else np.inf, bias_penalty)
    largest = 1.0 + max(penalty if weights else 0.0, bias_penalty)
    step = 1.0 / largest
    # Nesterov's momentum for a strongly convex loss: a small penalty makes the problem slow
    # for plain descent (its condition is largest / smallest), not for this.
    root = np.sqrt(largest / smallest)
    momentum = (root - 1.0) / (root + 1.0)
    last_coef, last_bias = coef, bias
    for _ in range(_STEPS):
        at_coef = coef + momentum * (coef - last_coef)
        at_bias = bias + momentum * (bias - last_bias)
        error = (softmax_rows(logp[None] + kernels @ at_coef + at_bias) - target[None]) * weight
        last_coef, last_bias = coef, bias
        if weights:
            coef = at_coef - step * (error + penalty * at_coef)
        bias = at_bias - step * (error.sum(axis=1, keepdims=True) + bias_penalty * at_bias)
    return coef, bias[:, 0]


def _held_out(
    kernel: np.ndarray, logp: np.ndarray, y: np.ndarray, penalty: float, bias_penalty: float
) -> GuardCheck:
    """Leave each correction out in turn: is it heard better by the adjustment fitted on the rest?"""
    n = len(y)
    folds = 1.0 - np.eye(n)
    coef, bias = _fit(kernel, logp, y, penalty, bias_penalty, folds)
    # Row i of fold i: the left-out correction, heard by the adjustment fitted without it.
    shifted = np.einsum("ij,ijc->ic", kernel * folds, coef) + bias
    p = softmax_rows(logp + shifted)
    base = softmax_rows(logp)
    rows = np.arange(n)
    return GuardCheck(
        n=n,
        right_without=int((base.argmax(axis=1) == y).sum()),
        right_with=int((p.argmax(axis=1) == y).sum()),
        loss_without=float(-np.log(np.clip(base[rows, y], 1e-9, None)).sum()),
        loss_with=float(-np.log(np.clip(p[rows, y], 1e-9, None)).sum()),
    )


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, of any number of leading axes."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)

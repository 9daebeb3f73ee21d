"""Retraining the Whisper head from donated feedback, behind a guard that keeps it honest.

Feedback (the manifest `voicemood export-feedback` writes) is added to the acted corpora, its rows
weighted up, and the head is refitted on cached embeddings in seconds. Before anything is
written, two heads are compared on speakers neither heard: an "old recipe" head (acted clips
minus a fixed guard set of acted speakers) and a "new" head (the same plus the feedback of donor
speakers). The deployed model cannot be that baseline: it was trained on the guard speakers. If
the new head loses more than a margin of UAR on the guard set, nothing loadable is written and
the running bot keeps its model. Both are also scored on feedback speakers held out of the new
head, which is what the feedback is for. Only then is the final head fitted on everything and
the run folder put in place at once (`publish_folder`), so a bot watching it never loads half.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from data_augment.datasets import READERS, Clip
from data_augment.embeddings import EmbeddedClips, embed_clips
from data_augment.scoring import Evaluation, score
from data_augment.whisper_head import HeadFit, fit_heads, head_model, open_encoder, subset
from inference.labels import CANONICAL_LABELS
from inference.models import HEAD_MARKER
from inference.models.whisper_head import WhisperHeadModel, read_head, save_head

REPORT_FILE = "retrain_report.json"
# RAVDESS actors 17-20 (two women, two men): the same held-out actors as the README's figures.
DEFAULT_GUARD = tuple(f"ravdess:{n:02d}" for n in range(17, 21))
# Corpora that may only be scored, never trained on (their licences).
EVALUATION_ONLY = frozenset({"urdu"})


class RetrainError(ValueError):
    """Retraining cannot start (bad data, guard, output folder); the message says why."""


@dataclass(frozen=True)
class RetrainConfig:
    guard_speakers: tuple[str, ...] = ()  # (): DEFAULT_GUARD, else a fifth of each corpus
    guard_margin: float = 0.02  # the new head may lose at most this much guard UAR
    feedback_weight: float = 3.0  # loss weight of a feedback row against an acted one
    heldout_share: float = 1 / 3  # of feedback speakers, kept out of the new head to score it
    copies: int = 2  # augmented copies per clip, as `train` makes
    # Short voiced crops per clip, so the retrained head (and its per-length confidence) still
    # knows short notes, as the bundled head does.
    crops: int = 1
    c: float = 0.03
    seed: int = 0
    encoder: str | None = None
    cache_dir: Path = Path("~/.cache/voicemood")
    version: str = ""
    retrained_from: str = ""


@dataclass(frozen=True)
class Comparison:
    """The old-recipe and new heads scored on the same clips (None: nothing to score)."""

    clips: int
    speakers: int
    old: Evaluation | None = None
    new: Evaluation | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "clips": self.clips,
            "speakers": self.speakers,
            "old": self.old.to_json() if self.old else None,
            "new": self.new.to_json() if self.new else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class RetrainReport:
    """What a retrain found and did; `passed` False means nothing was written."""

    passed: bool
    reason: str
    guard_speakers: list[str]
    guard_margin: float
    guard: Comparison
    feedback: Comparison
    feedback_clips: int
    feedback_speakers: int
    feedback_weight: float
    acted_clips: int
    seconds: float
    model: str = ""
    out: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reason": self.reason,
            "model": self.model,
            "out": self.out,
            "guard_speakers": self.guard_speakers,
            "guard_margin": self.guard_margin,
            "guard": self.guard.to_json(),
            "heldout_feedback": self.feedback.to_json(),
            "feedback_clips": self.feedback_clips,
            "feedback_speakers": self.feedback_speakers,
            "feedback_weight": self.feedback_weight,
            "acted_clips": self.acted_clips,
            "seconds": round(self.seconds, 1),
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
        }

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [f"{'' if self.passed else 'REFUSED: '}{self.reason}", f"{'':46} old     new"]
        for name, part in (
            (f"guard UAR ({_speakers(self.guard.speakers)}, acted)", self.guard),
            (f"held-out feedback UAR ({_speakers(self.feedback.speakers)})", self.feedback),
        ):
            if part.old is not None and part.new is not None:
                old, new = part.old.overall.uar, part.new.overall.uar
                lines.append(f"{name + f', {part.clips} clips':46} {old:.3f}   {new:.3f}")
            else:
                lines.append(f"{name:46} -       -      ({part.note})")
        lines.append(
            f"feedback: {self.feedback_clips} clips from {self.feedback_speakers} speakers, "
            f"weight {self.feedback_weight:g}; acted: {self.acted_clips} clips"
        )
        if self.out:
            lines.append(f"wrote {self.out} ({self.model})")
        lines.append(f"{self.seconds:.1f} s")
        return "\n".join(lines)


@dataclass(frozen=True)
class RetrainResult:
    report: RetrainReport
    model: WhisperHeadModel | None  # the final head; None when the guard refused it


def retrain(
    acted: Sequence[Clip],
    feedback: Sequence[Clip],
    config: RetrainConfig,
    out: Path | None,
    *,
    progress: bool = False,
) -> RetrainResult:
    """Check the feedback against the guard, then fit on everything and publish into `out`.

    `out` None only measures (the benchmark); otherwise it must be new, empty or a head folder.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if out is not None:
        check_output_folder(out)
    acted, feedback = list(acted), list(feedback)
    if not feedback:
        raise RetrainError("the feedback manifests hold no clips")
    if any(clip.corpus in EVALUATION_ONLY for clip in [*acted, *feedback]):
        raise RetrainError(f"{', '.join(sorted(EVALUATION_ONLY))} is for evaluation only")
    missing = [str(clip.path) for clip in [*acted, *feedback] if not clip.path.is_file()]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise RetrainError(f"audio files are missing: {', '.join(missing[:3])}{more}")
    guard = guard_speakers(acted, config.guard_speakers)
    donors, heldout = split_feedback_speakers(feedback, config.heldout_share, config.seed)
    labels = tuple(
        label for label in CANONICAL_LABELS if label in {c.label for c in [*acted, *feedback]}
    )

    mark = time.perf_counter()
    encoder, cache = open_encoder(config.encoder, config.cache_dir)
    try:
        acted_e, feedback_e = (
            embed_clips(
                clips,
                encoder,
                cache,
                copies=config.copies,
                crops=config.crops,
                seed=config.seed,
                progress=progress,
            )
            for clips in (acted, feedback)
        )
    finally:
        cache.close()
    timings["embed"] = time.perf_counter() - mark

    mark = time.perf_counter()
    both = EmbeddedClips.concat(acted_e, feedback_e)
    weights = np.where(np.arange(len(both.clips)) < len(acted_e.clips), 1.0, config.feedback_weight)
    speaker = np.array([clip.speaker for clip in both.clips])
    is_guard = np.isin(speaker, list(guard))
    is_heldout = np.isin(speaker, list(heldout))
    clean = both.copy == 0
    old_rows = np.flatnonzero(~is_guard & (np.arange(len(speaker)) < len(acted_e.clips)))
    new_rows = np.flatnonzero(~is_guard & ~is_heldout)
    # Set once around both threads: a per-fit limit would be undone by whichever fit ends first.
    with threadpool_limits(limits=1):
        heads = _parallel(
            lambda: _fit(subset(both, old_rows), labels, weights[old_rows], config),
            lambda: _fit(subset(both, new_rows), labels, weights[new_rows], config),
        )
    old_model, new_model = (head_model(encoder, fit, "check", {}) for fit in heads)
    guard_cmp = _compare(old_model, new_model, subset(both, np.flatnonzero(is_guard & clean)))
    if heldout:
        feedback_cmp = _compare(
            old_model, new_model, subset(both, np.flatnonzero(is_heldout & clean))
        )
    else:
        feedback_cmp = Comparison(
            clips=0,
            speakers=0,
            note=f"{len(donors)} feedback speaker(s): too few to hold one out, so the new head "
            "is judged on the guard set alone",
        )
    timings["guard"] = time.perf_counter() - mark
    assert guard_cmp.old is not None and guard_cmp.new is not None
    old_uar, new_uar = guard_cmp.old.overall.uar, guard_cmp.new.overall.uar
    passed = new_uar >= old_uar - config.guard_margin
    common = {
        "guard_speakers": sorted(guard),
        "guard_margin": config.guard_margin,
        "guard": guard_cmp,
        "feedback": feedback_cmp,
        "feedback_clips": len(feedback),
        "feedback_speakers": len(donors) + len(heldout),
        "feedback_weight": config.feedback_weight,
        "acted_clips": len(acted),
    }
    if not passed:
        reason = (
            f"the feedback made the head worse on the guard set: UAR {old_uar:.3f} -> "
            f"{new_uar:.3f}, a fall of {old_uar - new_uar:.3f} (more than the margin "
            f"{config.guard_margin:g}); nothing was written and the running model stays"
        )
        report = RetrainReport(
            passed=False,
            reason=reason,
            seconds=time.perf_counter() - started,
            timings=timings,
            **common,  # type: ignore[arg-type]
        )
        return RetrainResult(report, None)

    mark = time.perf_counter()
    final_fit = fit_heads(both, labels, c=config.c, weights=weights, seed=config.seed)
    version = config.version or f"{date.today():%Y.%m.%d}-retrained"
    training = {
        "labels": list(labels),
        "corpora": sorted({clip.corpus for clip in acted}),
        "speakers": {"train": sorted({clip.speaker for clip in acted}), "val": [], "test": []},
        "clips": {"train": len(acted), "val": 0, "test": 0},
        # Counts only: feedback speakers are people of the bot, not names for a model card.
        "feedback": {
            "clips": len(feedback),
            "speakers": len(donors) + len(heldout),
            "weight": config.feedback_weight,
        },
        "guard": {"speakers": sorted(guard), "margin": config.guard_margin},
        "retrained_from": config.retrained_from,
        "copies": config.copies,
        "crops": config.crops,
        "c": config.c,
        "seed": config.seed,
    }
    model = head_model(encoder, final_fit, version, training)
    timings["final"] = time.perf_counter() - mark
    reason = (
        f"guard passed: UAR {old_uar:.3f} -> {new_uar:.3f} on {len(guard)} acted speakers "
        f"never trained on (margin {config.guard_margin:g})"
    )
    report = RetrainReport(
        passed=True,
        reason=reason,
        seconds=time.perf_counter() - started,
        model=model.name,
        out=str(out) if out is not None else "",
        timings=timings,
        **common,  # type: ignore[arg-type]
    )
    if out is not None:

        def write(folder: Path) -> None:
            save_head(model.heads, model.card, folder)
            text = json.dumps(report.to_json(), indent=2, ensure_ascii=False)
            (folder / REPORT_FILE).write_text(text + "\n", "utf-8")

        publish_folder(out, write)
    return RetrainResult(report, model)


def guard_speakers(acted: Sequence[Clip], chosen: Sequence[str]) -> set[str]:
    """The acted speakers held out of both checked heads: `chosen`, RAVDESS 17-20, or a fifth."""
    present = {clip.speaker for clip in acted}
    if chosen:
        missing = sorted(set(chosen) - present)
        if missing:
            raise RetrainError(f"guard speakers {missing} have no clips in the acted data")
        guard = set(chosen)
    elif present >= set(DEFAULT_GUARD):
        guard = set(DEFAULT_GUARD)
    else:
        guard = set()
        for corpus in sorted({clip.corpus for clip in acted}):
            speakers = sorted({c.speaker for c in acted if c.corpus == corpus})
            guard.update(speakers[-max(1, round(len(speakers) / 5)) :])
    if guard >= present:
        raise RetrainError("the guard set would take every acted speaker; name fewer")
    return guard


def split_feedback_speakers(
    feedback: Sequence[Clip], share: float, seed: int
) -> tuple[list[str], list[str]]:
    """(donors, held out): a seeded share of feedback speakers, at least one, is held out."""
    speakers = sorted({clip.speaker for clip in feedback})
    if len(speakers) < 2:
        return speakers, []
    order = [speakers[i] for i in np.random.default_rng(seed).permutation(len(speakers))]
    n_held = min(len(speakers) - 1, max(1, round(len(speakers) * share)))
    return sorted(order[n_held:]), sorted(order[:n_held])


def default_datasets(model_folder: Path, data_roots: Sequence[Path]) -> list[str]:
    """Dataset specs for the acted corpora a head's card names, found under `data_roots`."""
    if not (model_folder / HEAD_MARKER).is_file():
        raise RetrainError(f"{model_folder} is not a Whisper head; pass --dataset")
    card, _ = read_head(model_folder)
    corpora = [c for c in card.training.get("corpora", []) if c in READERS]
    if not corpora:
        raise RetrainError(
            f"the card in {model_folder} names no corpus to retrain on; pass --dataset"
        )
    specs = []
    for corpus in corpora:
        found = [root / corpus for root in data_roots if (root / corpus).is_dir()]
        if not found:
            where = " or ".join(str(root) for root in data_roots)
            raise RetrainError(
                f"{corpus} (the current model's training data) is not in {where}; "
                f"pass --dataset {corpus}:FOLDER"
            )
        specs.append(f"{corpus}:{found[0]}")
    return specs


def check_output_folder(out: Path) -> None:
    """An output folder may be new, empty, or a head folder (the one a bot watches)."""
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / HEAD_MARKER).is_file())
    ):
        raise RetrainError(f"{out} exists and is not a model head folder; choose a new folder")


def publish_folder(out: Path, write: Callable[[Path], None]) -> None:
    """Write a folder beside `out`, then put it in place in one step.

    A new `out` is one rename. An existing one (the folder a bot watches) is swapped with the new
    one by renameat2(RENAME_EXCHANGE) where Linux offers it; elsewhere it is renamed aside first,
    so for a moment the folder is absent, which the reloader takes as "not settled yet".
    """
    # A symlinked folder keeps its link: the folder it points at is the one replaced.
    out = out.resolve() if out.is_symlink() else out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    staging.mkdir()
    try:
        write(staging)
        if not out.exists():
            os.rename(staging, out)
            return
        if _exchange(staging, out):
            shutil.rmtree(staging)  # now the old folder
            return
        aside = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.old")
        os.rename(out, aside)
        os.rename(staging, out)
        shutil.rmtree(aside, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _fit(
    train: EmbeddedClips, labels: Sequence[str], weights: np.ndarray, config: RetrainConfig
) -> HeadFit:
    # Only the ranking of classes matters for the guard's UAR: no speaker head, no calibration.
    return fit_heads(
        train,
        labels,
        c=config.c,
        weights=weights,
        speaker_head=False,
        seed=config.seed,
        calibrate_folds=0,
    )


def _parallel(*jobs: Callable[[], Any]) -> list[Any]:
    """Run independent fits on separate cores (each fit's BLAS is single-threaded)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        return [f.result() for f in [pool.submit(job) for job in jobs]]


def _compare(old: WhisperHeadModel, new: WhisperHeadModel, clips: EmbeddedClips) -> Comparison:
    speakers = len({clip.speaker for clip in clips.clips})
    with contextlib.suppress(ValueError):
        return Comparison(
            clips=len(clips.clips),
            speakers=speakers,
            old=score(clips.clips, old.classify(clips.vectors), old.labels),
            new=score(clips.clips, new.classify(clips.vectors), new.labels),
        )
    return Comparison(len(clips.clips), speakers, note="no clip with a label the heads know")


def _speakers(n: int) -> str:
    return f"{n} speaker" if n == 1 else f"{n} speakers"

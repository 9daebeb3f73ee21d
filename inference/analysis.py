"""From a file to an answer: decode, hear only the speech, split it into windows, classify, aggregate.

Only speech is heard (inference.speech): a note with none, or with less than `min_speech_s`, is
refused with its own error rather than answered with a tone it has no grounds for, and a long
note's windows without speech are not heard. With `pool_speech_only` the pauses and background
between stretches of speech are cut out before windowing (a little sound kept around each
stretch), so they do not dilute the note; the timeline still speaks in the original note's
seconds. The voice cues always hear the whole note (pauses are a cue).
Windows all have the same length, so the shared worker can batch them without padding (padding
changes HuBERT's answer); near-silent windows are left out of the answer and of the timeline.
The timeline is smoothed by a Viterbi pass (a fixed cost per change of label), because a
window's argmax flickers: a 69 s note of six stretches came back as 14 changes unsmoothed.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from inference.answer import Prediction, Segment, make_prediction
from inference.audio import Audio, DecodeLimits, decode_async
from inference.baseline import SpeakerBaseline
from inference.cues import CueBaseline, Cues, cues_of
from inference.errors import NoSpeech, TooLittleSpeech
from inference.personal import PersonalAdjustment
from inference.speech import (
    FRAME_S,
    MAIN_VOICE_DB,
    Speech,
    SpeechOnly,
    find_speech,
    main_voice,
    speech_only,
)
from inference.worker import SharedWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisConfig:
    window_s: float = 4.0
    not_sure_below: float = 0.5
    limits: DecodeLimits = field(default_factory=DecodeLimits)
    ffmpeg: str | None = None
    # A window this far below the loudest one is a pause, not speech.
    silence_db: float = 35.0
    # ffmpeg children decoding at once: a burst of 200 notes must not start 200 of them and
    # starve the event loop (measured: loop lag 2.4 s unbounded, 0.07 s with 2).
    max_decodes: int = 2
    # Log-probability a change of label between neighbouring windows costs in the timeline (a
    # window's own log-probabilities count by its length in windows); 0 reports every window's
    # argmax. Chosen on RAVDESS actors 13-16 with the Whisper head trained without actors 13-20
    # (bench/long_notes.py, phrase windows): on actors 17-20 it took segments per true stretch
    # from 1.84 to 1.14 and time accuracy from 0.695 to 0.784. Retune it for a new model.
    switch_penalty: float = 0.5
    # Measure the voice cues (inference.cues) of every note, beside the model's work.
    cues: bool = True
    # Hear only speech: refuse notes without enough of it, and leave a long note's windows
    # without speech unheard. Off only where a test feeds a model tones to check something else.
    speech_gate: bool = True
    # Less speech than this is refused as too little to hear a tone in. Measured on held-out
    # RAVDESS actors cut to their speech (bench/head.py, section 2): at 0.5 s the bundled head's
    # answers given at >= 80 % were wrong 28 % of the time, at 1 s 6.6 % (UAR 0.41 and 0.60).
    min_speech_s: float = 1.0
    # Pool over speech only: cut out what is not speech and join the rest before windowing.
    # The bundled heads (2026.12.06 on) were trained on the voiced part of every clip, so the
    # analyser hears notes this way; the head before them, trained on whole clips, fell from
    # 0.975 to 0.513 accuracy on RAVDESS actors 17-20 when pooled so (bench/speech.py --answers).
    # Off, the gate still refuses, and still drops a long note's speechless windows.
    pool_speech_only: bool = True
    # Sound kept each side of a stretch of speech when the rest is cut out, so words keep edges.
    speech_pad_s: float = 0.1
    # Pool over the note's main voice only: speech more than this many dB below the note's loud
    # speech is someone else (inference.speech.main_voice); 0 keeps all the detector's speech.
    main_voice_db: float = MAIN_VOICE_DB
    # How a long note's speech is cut into windows: "phrases" keeps each phrase (speech between
    # pauses) whole where it can, "fixed" cuts back-to-back `window_s` windows through words and
    # phrases alike. A note with at most 1.5 windows of speech is one window either way.
    windows: Literal["phrases", "fixed"] = "phrases"
    # The shortest window a phrase makes on its own, as much speech as a note needs to be heard;
    # shorter ones join a neighbour. Chosen on RAVDESS actors 13-16 (bench/long_notes.py): time
    # accuracy 0.675 at 1 s (0.6 s the same), 0.652 at 1.5 s, 0.62 at 2 s.
    phrase_min_s: float = 1.0


@dataclass(frozen=True)
class _Listening:
    """What goes to the model: equal-length waves, and the original note's span each stands for."""

    waves: list[np.ndarray]
    spans: list[tuple[int, int]]
    speech_s: float | None


class Analyzer:
    """Turns recordings into Predictions through one shared worker (in process or remote)."""

    def __init__(self, worker: SharedWorker, config: AnalysisConfig | None = None) -> None:
        self.worker = worker
        self.config = config or AnalysisConfig()
        self._decodes = asyncio.Semaphore(self.config.max_decodes)

    async def warm_up(self) -> None:
        """Load the speech detector and the cues' numba kernels now, not on the first note.

        A new process paid for them on its first answer: 6 s of it on a busy 2-core machine,
        where the next note took 0.3 s (bench/docker_smoke.sh).
        """
        await asyncio.to_thread(self._warm_up)

    def _warm_up(self) -> None:
        second = np.random.default_rng(0).standard_normal(16_000).astype(np.float32) * 0.1
        if self.config.speech_gate:
            find_speech(second)
        if self.config.cues:
            cues_of(second)

    async def analyse(
        self,
        source: bytes | str | Path,
        *,
        baseline: SpeakerBaseline | None = None,
        usual_cues: CueBaseline | None = None,
        language: str | SpeakerBaseline | None = None,
        personal: PersonalAdjustment | None = None,
    ) -> Prediction:
        """Decode and classify one recording; raises the typed errors of inference.errors.

        With a speaker's `baseline` (and a model that embeds), the note is heard against that
        speaker's usual voice; the answer's `embedding` is what updates the baseline afterwards.
        `usual_cues`, the speaker's own cue statistics, is what the note's cues are read against.
        `language` (a code, or running statistics of a language's notes) is heard against the
        voices of that language, where the model knows them. `personal`, the speaker's adjustment
        fitted on their own corrections, moves the model's answer for them alone.
        """
        return await self.analyse_audio(
            await self.decode(source),
            baseline=baseline,
            usual_cues=usual_cues,
            language=language,
            personal=personal,
        )

    async def decode(self, source: bytes | str | Path) -> Audio:
        """Decode one recording under the configured limits, a bounded number at a time."""
        async with self._decodes:
            return await decode_async(source, self.config.limits, ffmpeg=self.config.ffmpeg)

    def clips_of(self, audio: Audio) -> int:
        """How many clips `analyse_audio(audio)` puts in the worker's queue, at most.

        With the speech gate on, the exact count needs the speech detector; cutting pauses out
        only shortens a note, so the count of a whole note of the same length bounds it.
        """
        config = self.config
        if config.speech_gate and config.pool_speech_only and config.windows == "phrases":
            return phrase_windows_at_most(
                len(audio.samples), config.window_s, config.phrase_min_s, audio.sample_rate
            )
        if config.speech_gate:
            return window_count(len(audio.samples), config.window_s, audio.sample_rate)
        return len(split_windows(audio, self.config.window_s, self.config.silence_db))

    async def analyse_audio(
        self,
        audio: Audio,
        *,
        baseline: SpeakerBaseline | None = None,
        usual_cues: CueBaseline | None = None,
        language: str | SpeakerBaseline | None = None,
        personal: PersonalAdjustment | None = None,
    ) -> Prediction:
        """Classify decoded audio; raises NoSpeech or TooLittleSpeech for notes without enough speech."""
        # The cues run in a thread beside the worker, so they cost the event loop nothing and
        # overlap the model's own work (bench/cues.py).
        measuring = (
            asyncio.create_task(
                asyncio.to_thread(cues_of, audio.samples, audio.sample_rate, usual_cues)
            )
            if self.config.cues
            else None
        )
        try:
            listening = await self._listen(audio)
            heard = await self.worker.hear(listening.waves, baseline, language)
            model, rows = heard.model, heard.rows
            # Each window counts by its length (phrase windows differ; fixed ones mostly do not):
            # in the note's answer, its vector, and the timeline's evidence.
            lengths = np.array([len(w) for w in listening.waves], np.float64)
            unadjusted = None
            if personal is not None and heard.embeddings is not None:
                # The person's corrections move the logits of their own notes (inference.personal).
                mean = np.average(rows, axis=0, weights=lengths)
                unadjusted = dict(zip(model.labels, mean.tolist(), strict=True))
                rows = personal.apply(rows, heard.embeddings)
            embedding = (
                _note_embedding(heard.embeddings, lengths) if heard.embeddings is not None else None
            )
        except BaseException:
            if measuring is not None:
                measuring.cancel()
            raise
        cues = await _cues(measuring)
        labels = model.labels
        sr = audio.sample_rate
        # A 6 s phrase's evidence outweighs a 1.5 s one's.
        path = smooth_labels(
            rows, self.config.switch_penalty, lengths / (self.config.window_s * sr)
        )
        timeline = [
            Segment(a / sr, b / sr, labels[k], float(row[k]))
            for (a, b), row, k in zip(listening.spans, rows, path, strict=True)
        ]
        mean = np.average(rows, axis=0, weights=lengths)
        return make_prediction(
            dict(zip(labels, mean.tolist(), strict=True)),
            duration_s=audio.duration_s,
            model=model.name,
            not_sure_below=self.config.not_sure_below,
            timeline=_merge(timeline, self.config.not_sure_below) if len(timeline) > 1 else [],
            embedding=embedding,
            cues=cues,
            speech_s=listening.speech_s,
            unadjusted=unadjusted,
        )

    async def _listen(self, audio: Audio) -> _Listening:
        """The windows the model hears: the note's own, or its speech only (the speech gate)."""
        config = self.config
        if not config.speech_gate:
            windows = split_windows(audio, config.window_s, config.silence_db)
            return _Listening([audio.samples[a:b] for a, b in windows], windows, None)
        speech = await asyncio.to_thread(find_speech, audio.samples, audio.sample_rate)
        _enough(speech, config.min_speech_s)
        if not config.pool_speech_only:
            # Each window of a long note follows the note's rule: no speech, no answer from it.
            # (A window of quiet speech beside loud noise would be dropped as quiet: keep it.)
            windows = _with_speech(
                split_windows(audio, config.window_s, config.silence_db), speech
            ) or _with_speech(split_windows(audio, config.window_s, math.inf), speech)
            waves = [audio.samples[a:b] for a, b in windows]
            return _Listening(waves, windows, speech.seconds)
        heard = main_voice(audio.samples, speech, config.main_voice_db)
        only = speech_only(audio.samples, heard, config.speech_pad_s)
        if config.windows == "phrases":
            cuts = phrase_windows(only, config.window_s, config.phrase_min_s, audio.sample_rate)
        else:
            cuts = split_windows(Audio(only.samples), config.window_s, config.silence_db)
        waves, spans = [], []
        for a, b in cuts:
            span = (only.boundary(a), only.boundary(b))
            if heard.within(*span) > 0:
                waves.append(only.samples[a:b])
                spans.append(span)
        if spans:
            # The quiet before the first words and after the last (and a tail shorter than half a
            # window, which split_windows gives no window of its own) belong, like a cut pause, to
            # the stretch beside them: the timeline runs from the note's start to its end.
            spans[0] = (0, spans[0][1])
            spans[-1] = (spans[-1][0], len(audio.samples))
        return _Listening(waves, spans, speech.seconds)


def _with_speech(windows: list[tuple[int, int]], speech: Speech) -> list[tuple[int, int]]:
    return [(a, b) for a, b in windows if speech.within(a, b) > 0]


def _enough(speech: Speech, min_speech_s: float) -> None:
    """Raises when a note holds no speech, or less than a tone of voice can be heard in."""
    if not speech.spans:
        raise NoSpeech(
            "I can't hear speech in this note, only other sounds, so there's no tone of voice "
            "for me to read. Send me a few spoken words and I'll gladly listen."
        )
    # One frame of grace: a second of speech sent as a voice note reads as 0.968 s.
    if speech.seconds + FRAME_S < min_speech_s:
        raise TooLittleSpeech(
            "This note is too short to hear a tone of voice; "
            "try a few words more and I'll listen again.",
            speech_s=round(speech.seconds, 2),
            min_speech_s=min_speech_s,
        )


async def _cues(measuring: asyncio.Task[Cues] | None) -> Cues | None:
    """The note's cues; a failure to measure them never costs the note its answer."""
    if measuring is None:
        return None
    try:
        return await measuring
    except Exception:
        log.warning("measuring a note's voice cues failed", exc_info=True)
        return None


def smooth_labels(
    rows: np.ndarray, switch_penalty: float, weights: np.ndarray | None = None
) -> list[int]:
    """The most likely label per window when each change of label costs `switch_penalty`.

    Viterbi over (windows x labels): a window's emission is the log of its probability, times
    its weight (its length in windows) when `weights` are given, and moving between labels from
    one window to the next subtracts the penalty. With penalty 0 this is each window's argmax.
    """
    if len(rows) == 0:
        return []
    emission = np.log(np.clip(np.asarray(rows, np.float64), 1e-12, None))
    if weights is not None:
        emission = emission * np.asarray(weights, np.float64)[:, None]
    score = emission[0].copy()
    came_from = np.zeros(emission.shape, np.int64)
    for t in range(1, len(emission)):
        best = int(score.argmax())
        switch = score[best] - switch_penalty
        stay = score >= switch  # ties keep the label: a change must earn its place
        came_from[t] = np.where(stay, np.arange(len(score)), best)
        score = np.where(stay, score, switch) + emission[t]
    path = [int(score.argmax())]
    for t in range(len(emission) - 1, 0, -1):
        path.append(int(came_from[t, path[-1]]))
    return path[::-1]


def _note_embedding(rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One vector for the whole note: its windows' embeddings weighted by their length."""
    return np.average(rows, axis=0, weights=lengths).astype(np.float32)


def window_count(samples: int, window_s: float, sample_rate: int = 16_000) -> int:
    """How many windows `split_windows` cuts a note of `samples` into before dropping quiet ones."""
    size = int(window_s * sample_rate)
    if samples <= size * 1.5:
        return 1
    full = (samples - size) // size + 1
    return full + (samples - full * size >= size // 2)


def split_windows(audio: Audio, window_s: float, silence_db: float = 35.0) -> list[tuple[int, int]]:
    """Equal-length (start, end) sample ranges covering the note; one range for a short note.

    A note up to 1.5 windows long is one window. Longer notes get back-to-back windows, plus one
    aligned to the end when the remaining tail is at least half a window; quiet windows are dropped.
    """
    n = len(audio.samples)
    size = int(window_s * audio.sample_rate)
    if n <= size * 1.5:
        return [(0, n)]
    starts = list(range(0, n - size + 1, size))
    if n - (starts[-1] + size) >= size // 2:
        starts.append(n - size)
    ranges = [(s, s + size) for s in starts]
    rms = np.array([np.sqrt(np.mean(np.square(audio.samples[a:b]))) for a, b in ranges])
    loud_enough = rms >= rms.max() * 10 ** (-silence_db / 20)
    return [r for r, keep in zip(ranges, loud_enough, strict=True) if keep]


def phrase_windows(
    only: SpeechOnly, window_s: float, min_s: float, sample_rate: int = 16_000
) -> list[tuple[int, int]]:
    """Windows over a speech-only note that follow its phrases, as (start, end) in `only`.

    A note of at most 1.5 windows is one window (as `split_windows`). Otherwise every phrase (a
    kept piece: speech between pauses) starts as a window; a phrase longer than 1.5 windows is cut
    into equal parts of about `window_s`; then, while a window is shorter than `min_s`, the
    shortest joins the neighbour it is nearer to in the original note (the shorter pause), as long
    as the two stay within 1.5 windows. A tone tends to change across a pause, not inside a phrase,
    and a window that is one phrase is heard the way the head was trained: on one utterance.
    """
    n = len(only.samples)
    size = int(window_s * sample_rate)
    if n <= size * 1.5:
        return [(0, n)]
    ends = [*only.starts[1:], n]
    windows: list[list[int]] = []  # [start, end] in `only`
    pauses: list[int] = []  # the original note's pause between window k and k + 1
    for i, (a, b) in enumerate(zip(only.starts, ends, strict=True)):
        if i:
            pauses.append(only.spans[i][0] - only.spans[i - 1][1])
        parts = max(1, round((b - a) / size)) if b - a > size * 1.5 else 1
        edges = np.linspace(a, b, parts + 1).round().astype(int).tolist()
        for k in range(parts):
            if k:
                pauses.append(0)
            windows.append([edges[k], edges[k + 1]])
    shortest = int(min_s * sample_rate)
    while len(windows) > 1:
        lengths = [b - a for a, b in windows]
        order = sorted(range(len(windows)), key=lengths.__getitem__)
        for k in order:
            if lengths[k] >= shortest:
                return [(a, b) for a, b in windows]
            sides = [j for j in (k - 1, k) if 0 <= j < len(pauses)]
            sides = [j for j in sides if lengths[j] + lengths[j + 1] <= size * 1.5]
            if sides:
                j = min(sides, key=pauses.__getitem__)
                windows[j] = [windows[j][0], windows[j + 1][1]]
                del windows[j + 1], pauses[j]
                break
        else:
            break  # every short window is boxed in by long ones: it stays short
    return [(a, b) for a, b in windows]


def phrase_windows_at_most(
    samples: int, window_s: float, min_s: float, sample_rate: int = 16_000
) -> int:
    """An upper bound on `phrase_windows`' count for a speech-only note of at most `samples`.

    Windows shorter than `min_s` survive only boxed in by neighbours that would make a join longer
    than 1.5 windows, so between two of them lies a window longer than 1.5 windows - `min_s`.
    """
    size = int(window_s * sample_rate)
    if samples <= size * 1.5:
        return 1
    long_enough = samples // max(1, int(min_s * sample_rate))
    boxed_in = samples // max(1, int((1.5 * window_s - min_s) * sample_rate)) + 1
    return int(long_enough + boxed_in)


def _merge(timeline: list[Segment], not_sure_below: float) -> list[Segment]:
    """Joins touching windows that sound the same, so the timeline shows only the changes.

    A stretch's confidence is the mean probability of its label over its windows; below
    `not_sure_below` the stretch is marked not sure.
    """
    merged: list[Segment] = []
    counts: list[int] = []
    for seg in timeline:
        last = merged[-1] if merged else None
        if last and last.label == seg.label and seg.start_s <= last.end_s + 1e-6:
            k = counts[-1]
            confidence = (last.confidence * k + seg.confidence) / (k + 1)
            merged[-1] = Segment(last.start_s, seg.end_s, seg.label, confidence)
            counts[-1] = k + 1
        else:
            # The end-aligned last window overlaps its neighbour: show it from where that one ends.
            start = max(seg.start_s, last.end_s) if last else seg.start_s
            merged.append(Segment(start, seg.end_s, seg.label, seg.confidence))
            counts.append(1)
    return [replace(seg, not_sure=seg.confidence < not_sure_below) for seg in merged]

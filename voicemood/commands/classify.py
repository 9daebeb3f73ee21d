"""`voicemood classify FILE...`: how the tone of voice sounds in each file, as text or JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicemood.settings import Settings

if TYPE_CHECKING:  # the analyzer imports numpy and the model code: loaded only when run
    from inference.analysis import Analyzer
    from inference.answer import Prediction
    from inference.baseline import SpeakerBaseline
    from inference.errors import VoiceMoodError
    from inference.face import FaceReading
    from inference.music import Mode, Song
    from inference.transcript import Transcriber, Transcript

NAME = "classify"
HELP = "Analyse audio files and print the tone of voice each one sounds like."

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="audio files: ogg, opus, mp3, m4a, wav, flac; videos (mp4, webm, mov: the voice and "
        "the face); photos (jpg, png, webp: the face alone)",
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per line per file (errors included)"
    )
    parser.add_argument("--lang", choices=("en", "ko"), help="language of the text answer")
    parser.add_argument(
        "--same-speaker",
        action="store_true",
        help="the files are one speaker's notes: hear each against that speaker's usual voice, "
        "learned (unlabelled) from the other files",
    )
    parser.add_argument(
        "--same-language",
        action="store_true",
        help="the files are notes in one language: hear each against the voices of that "
        "language, learned (unlabelled) from the other files",
    )
    parser.add_argument(
        "--language",
        metavar="CODE",
        help="the language spoken: en, ko, de, pl (those the model ships voices of) are heard "
        "against that language's voices; another code is answered less surely, as a language "
        "the model never trained on (with --same-language, the files' voices)",
    )
    parser.add_argument(
        "--face-crop",
        action="store_true",
        help="photos (jpg, png, webp) are already-cropped faces: read without the face detector",
    )
    parser.add_argument(
        "--transcript",
        action="store_true",
        help="also write down the words (Whisper-base, English or Korean); adds `transcript` "
        "and `language` to the JSON",
    )
    parser.add_argument(
        "--music",
        action="store_true",
        help="also suggest three songs near each answer's place on the valence/arousal plane; "
        "adds `music` to the JSON",
    )
    parser.add_argument(
        "--lift",
        action="store_true",
        help="with --music: songs a step toward calm and pleasant instead of the mood itself",
    )


@dataclass(frozen=True)
class _Heard:
    """A file's answer with its words (--transcript)."""

    prediction: Prediction
    transcript: Transcript


@dataclass(frozen=True)
class _Seen:
    """A video's or photo's face beside its voice's outcome (None for a photo, which has no voice)."""

    voice: Any
    face: FaceReading | VoiceMoodError


def run(args: argparse.Namespace, settings: Settings) -> int:
    from inference.errors import VoiceMoodError
    from voicemood.logs import configure_logging, secrets_of
    from voicemood.wiring import build_analyzer

    # Warnings only: stdout carries the answers, stderr stays quiet unless something is wrong.
    configure_logging(logging.WARNING, settings.log_json, secrets=secrets_of(settings))
    lang = args.lang or settings.language
    # Files are checked before the model loads (seconds): a mistyped name fails at once.
    missing = [_missing(path) for path in args.files]
    if all(missing):
        for path, error in zip(args.files, missing, strict=True):
            print(_format(path, error, as_json=args.json, lang=lang), flush=True)
        return 1
    if all(_is_photo(path) for path in args.files):  # faces alone: no voice model to load
        outcomes = [_photo(path, cropped=args.face_crop) for path in args.files]
        for path, outcome in zip(args.files, outcomes, strict=True):
            print(_format(path, outcome, as_json=args.json, lang=lang), flush=True)
        return 1 if all(_failed(outcome) for outcome in outcomes) else 0
    try:
        analyzer = build_analyzer(settings)
    except VoiceMoodError as error:
        print(f"voicemood: {error}", file=sys.stderr)
        return 2
    transcriber = None
    if args.transcript:
        from inference.transcript import Transcriber

        transcriber = Transcriber(cache_dir=settings.cache_dir, max_waiting=None)
    failures = asyncio.run(
        _print_all(
            analyzer,
            args.files,
            as_json=args.json,
            lang=lang,
            same_speaker=args.same_speaker,
            same_language=args.same_language,
            language=args.language,
            transcriber=transcriber,
            face_crop=args.face_crop,
            songs=_Songs("lift" if args.lift else "match") if args.music or args.lift else None,
        )
    )
    return 1 if failures == len(args.files) else 0


def _language(own: SpeakerBaseline | None, code: str | None) -> str | SpeakerBaseline | None:
    """The files' own voices (--same-language), named by --language when both are given."""
    if own is None:
        return code
    return replace(own, language=code) if code else own


async def _print_all(
    analyzer: Analyzer,
    files: list[Path],
    *,
    as_json: bool,
    lang: str,
    same_speaker: bool = False,
    same_language: bool = False,
    language: str | None = None,
    transcriber: Transcriber | None = None,
    face_crop: bool = False,
    songs: _Songs | None = None,
) -> int:
    """Print each file's answer as soon as it and every file before it are done; count failures."""
    failures = 0
    async with analyzer.worker:
        others = await _leave_one_out(analyzer, files) if same_speaker or same_language else None
        contexts = [
            _Context(
                baseline=others[i] if others is not None and same_speaker else None,
                language=_language(others[i] if others and same_language else None, language),
            )
            for i in range(len(files))
        ]
        classifying = _classify_all(analyzer, files, contexts, transcriber, face_crop)
        async with contextlib.aclosing(classifying) as outcomes:
            async for path, outcome in outcomes:
                print(_format(path, outcome, as_json=as_json, lang=lang, songs=songs), flush=True)
                failures += _failed(outcome)
    return failures


@dataclass(frozen=True)
class _Context:
    """What a file is heard against: its speaker's usual voice, and its language's voices."""

    baseline: Any = None
    language: Any = None


async def _leave_one_out(analyzer: Analyzer, files: list[Path]) -> list[Any]:
    """A first pass over the files: each file's running statistics are made of the others.

    Leaving the file itself out is what the bot does too (a note is heard against the notes
    before it), so a file is never normalised by its own voice (--same-speaker) or counted in
    its own language's voices (--same-language).
    """
    from inference.baseline import SpeakerBaseline

    embeddings: list[tuple[int, Any]] = []
    async with contextlib.aclosing(_classify_all(analyzer, files)) as outcomes:
        index = 0
        async for _, outcome in outcomes:
            vector = getattr(outcome, "embedding", None)
            if vector is not None:
                embeddings.append((index, vector))
            index += 1
    if not embeddings:
        if not analyzer.worker.embeds:
            log.warning(
                "--same-speaker and --same-language need a model that embeds "
                "(the default Whisper head)"
            )
        return [None] * len(files)
    import numpy as np

    per_file: list[Any] = [None] * len(files)
    others = SpeakerBaseline.leave_one_out(np.stack([v for _, v in embeddings]))
    for (i, _), baseline in zip(embeddings, others, strict=True):
        per_file[i] = baseline if baseline.count else None
    return per_file


async def _classify_all(
    analyzer: Analyzer,
    files: list[Path],
    contexts: list[_Context] | None = None,
    transcriber: Transcriber | None = None,
    face_crop: bool = False,
) -> AsyncGenerator[tuple[Path, Any], None]:
    """Each file's outcome, in input order, with a bounded number of files in flight.

    Starting every file at once overflowed the worker's queue (100 notes: a fifth answered
    "busy") and held every decoded note in memory. Here at most `_files_in_flight` files are
    started and not yet printed, and the clips they hand the worker never exceed its queue, so
    the CLI, the worker's only client, is never refused whatever the number of files.
    """
    config = analyzer.worker.config
    budget = _ClipBudget(config.max_queue)
    limit = _files_in_flight(config.max_queue, config.max_batch)
    pending: deque[tuple[Path, asyncio.Task[Any]]] = deque()
    try:
        for i, path in enumerate(files):
            context = contexts[i] if contexts is not None else _Context()
            task = asyncio.create_task(
                _one(analyzer, path, budget, context, transcriber, face_crop)
            )
            pending.append((path, task))
            while pending and (len(pending) >= limit or pending[0][1].done()):
                first, task = pending.popleft()
                yield first, await task
        while pending:
            first, task = pending.popleft()
            yield first, await task
    finally:
        for _, task in pending:  # the consumer stopped early (Ctrl-C, a closed pipe)
            task.cancel()


def _files_in_flight(max_queue: int, max_batch: int) -> int:
    """Enough waiting notes to fill a few batches, never more than the queue holds."""
    return max(1, min(max_queue, 4 * max_batch))


class _ClipBudget:
    """The worker queue's room, handed out to notes in the order they ask.

    A note larger than the whole queue waits until it is alone, which is when the worker admits
    it (`InferenceWorker.run_many`); the lock keeps later small notes from overtaking it forever.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._door = asyncio.Lock()
        self._room = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def hold(self, clips: int) -> AsyncIterator[None]:
        async with self._door, self._room:
            await self._room.wait_for(lambda: self.used == 0 or self.used + clips <= self.capacity)
            self.used += clips
        try:
            yield
        finally:
            async with self._room:
                self.used -= clips
                self._room.notify_all()


async def _one(
    analyzer: Analyzer,
    path: Path,
    budget: _ClipBudget,
    context: _Context | None = None,
    transcriber: Transcriber | None = None,
    face_crop: bool = False,
) -> Any:
    """A file's outcome: a photo's face, an audio file's voice, or a video's voice and face."""
    if _is_photo(path):
        return await asyncio.to_thread(_photo, path, cropped=face_crop)
    if not _is_video(path):
        return await _voice(analyzer, path, budget, context, transcriber)
    # The face is read on its own thread (and ffmpeg child) while the voice is analysed.
    face = asyncio.create_task(asyncio.to_thread(_video_face, path))
    voice = await _voice(analyzer, path, budget, context, transcriber)
    seen = await face
    return voice if seen is None else _Seen(voice, seen)


async def _voice(
    analyzer: Analyzer,
    path: Path,
    budget: _ClipBudget,
    context: _Context | None,
    transcriber: Transcriber | None,
) -> Any:
    from inference.errors import VoiceMoodError

    try:
        if error := await asyncio.to_thread(_missing, path):
            raise error
        audio = await analyzer.decode(path)
        words = asyncio.create_task(transcriber.transcribe(audio.samples)) if transcriber else None
        async with budget.hold(analyzer.clips_of(audio)):
            context = context or _Context()
            prediction = await analyzer.analyse_audio(
                audio, baseline=context.baseline, language=context.language
            )
        if words is None:
            return prediction
        transcript = await words
        assert transcript is not None  # the CLI's transcriber lets every file wait its turn
        return _Heard(prediction, transcript)
    except (VoiceMoodError, FileNotFoundError, PermissionError, IsADirectoryError) as error:
        return error
    except Exception as error:  # one bad file must not stop the others
        log.exception("unexpected failure analysing %s", path)
        return error


def _is_photo(path: Path) -> bool:
    from inference.face.frames import is_photo_name

    return is_photo_name(path.name)


def _is_video(path: Path) -> bool:
    from inference.face.frames import is_video_name

    return is_video_name(path.name)


def _photo(path: Path, *, cropped: bool) -> Any:
    """A photo's face (_Seen without a voice), or why it could not be read."""
    from inference.errors import VoiceMoodError
    from inference.face import read_image

    if error := _missing(path):
        return error
    try:
        return _Seen(None, read_image(path, cropped=cropped))
    except VoiceMoodError as error:
        return error


def _video_face(path: Path) -> FaceReading | VoiceMoodError | None:
    """A video's face, its error, or None when the file has no picture (or none at all)."""
    from inference.errors import NoVideoStream, VoiceMoodError
    from inference.face import read_video

    try:
        return read_video(path)
    except NoVideoStream:
        return None
    except VoiceMoodError as error:
        return error
    except OSError:  # missing or unreadable: the voice's answer says so
        return None


def _failed(outcome: Any) -> bool:
    if isinstance(outcome, _Seen):
        return isinstance(outcome.face, BaseException) and (
            outcome.voice is None or isinstance(outcome.voice, BaseException)
        )
    return isinstance(outcome, BaseException)


def _missing(path: Path) -> OSError | None:
    """Why `path` is not a file to analyse (missing, a folder), or None when it is one."""
    if path.is_file():
        return None
    if path.is_dir():
        return IsADirectoryError(
            f"{path} is a folder, not an audio file: name the files in it "
            f"(for example {path / '*.ogg'})"
        )
    return FileNotFoundError(f"No such file: {path}")


def _format(
    path: Path, outcome: Any, *, as_json: bool, lang: str, songs: _Songs | None = None
) -> str:
    prediction = _prediction_of(outcome.voice if isinstance(outcome, _Seen) else outcome)
    suggested = songs.next(prediction) if songs and prediction is not None else None
    if as_json:
        record: dict[str, Any] = {"file": str(path)}
        if isinstance(outcome, _Seen):
            if outcome.voice is not None:
                record.update(_voice_record(outcome.voice, lang))
            record.update(_face_record(outcome, lang))
        else:
            record.update(_voice_record(outcome, lang))
        if suggested is not None:
            record.update(music=[song.to_json() for song in suggested])
        line = json.dumps(record, ensure_ascii=False)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            # A file name that is not UTF-8 holds its bytes as surrogates: written as \udcXX
            # escapes the line stays valid UTF-8 JSON, and os.fsencode gives the name back.
            line = json.dumps(record)
        return line
    music = "".join(
        "\n  " + _song_line(number, song, lang) for number, song in enumerate(suggested or (), 1)
    )
    if isinstance(outcome, _Seen):
        lines = [] if outcome.voice is None else [_voice_text(outcome.voice, lang)]
        lines += _face_text(outcome, lang)
        return f"{path}: " + "\n".join(lines) + music
    return f"{path}: {_voice_text(outcome, lang)}{music}"


def _voice_record(outcome: Any, lang: str) -> dict[str, Any]:
    from bots.replies import render_error
    from inference.answer import Prediction
    from inference.errors import VoiceMoodError

    if isinstance(outcome, _Heard):
        return {
            **outcome.prediction.to_json(),
            "transcript": outcome.transcript.text,
            "language": outcome.transcript.language,
        }
    if isinstance(outcome, Prediction):
        return outcome.to_json()
    if isinstance(outcome, VoiceMoodError):
        # The same sentence as the text answer (and the bots' reply), in the chosen language.
        return {"error": render_error(outcome, lang), "code": outcome.code}
    if isinstance(outcome, OSError):
        return {"error": str(outcome), "code": "file"}
    return {"error": "Something went wrong while analysing this file.", "code": "error"}


def _face_record(seen: _Seen, lang: str) -> dict[str, Any]:
    """`face` (or its error), and `fused` when the voice was heard too."""
    from bots.replies import render_error
    from inference.face import FaceReading, fuse

    if not isinstance(seen.face, FaceReading):
        return {"face": {"error": render_error(seen.face, lang), "code": seen.face.code}}
    record: dict[str, Any] = {"face": seen.face.to_json()}
    prediction = _prediction_of(seen.voice)
    if prediction is not None:
        fused = fuse(prediction.probabilities, prediction.confidence, seen.face)
        record["fused"] = fused.to_json()
    return record


def _voice_text(outcome: Any, lang: str) -> str:
    from bots.replies import render_error, render_prediction
    from inference.answer import Prediction
    from inference.errors import VoiceMoodError

    if isinstance(outcome, _Heard):
        words = outcome.transcript.text
        return f"{render_prediction(outcome.prediction, lang)}\n  “{words}”"
    if isinstance(outcome, Prediction):
        return render_prediction(outcome, lang)
    if isinstance(outcome, VoiceMoodError):
        return render_error(outcome, lang)
    return str(outcome)


def _face_text(seen: _Seen, lang: str) -> list[str]:
    """The face's line, and the voice and face together (or that they disagree)."""
    from bots.face_replies import render_face, render_fusion
    from bots.replies import render_error
    from inference.face import FaceReading, fuse

    if not isinstance(seen.face, FaceReading):
        return [render_error(seen.face, lang)]
    prediction = _prediction_of(seen.voice)
    lines = [render_face(seen.face, lang, voice_heard=prediction is not None)]
    if prediction is not None:
        fused = fuse(prediction.probabilities, prediction.confidence, seen.face)
        together = render_fusion(
            prediction.label, seen.face, fused, lang, voice_not_sure=prediction.not_sure
        )
        if together is not None:
            lines.append(together)
    return lines


def _prediction_of(voice: Any) -> Prediction | None:
    from inference.answer import Prediction

    if isinstance(voice, _Heard):
        return voice.prediction
    return voice if isinstance(voice, Prediction) else None


class _Songs:
    """--music: three songs per answer, never the previous answer's three."""

    def __init__(self, mode: Mode) -> None:
        self.mode: Mode = mode
        self._last: list[str] = []

    def next(self, prediction: Prediction) -> list[Song]:
        from inference.music import aim, suggest

        songs = suggest(aim(prediction.valence, prediction.arousal, self.mode), avoid=self._last)
        self._last = [song.key for song in songs]
        return songs


def _song_line(number: int, song: Song, lang: str) -> str:
    """A song as the bots word it ("1. Title – Artist" and its link), on one line."""
    from bots.core.music import song_line

    return "🎵 " + "  ".join(part.strip() for part in song_line(number, song, lang).split("\n"))

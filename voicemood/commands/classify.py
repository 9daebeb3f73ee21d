"""`voicemood classify FILE...`: how the tone of voice sounds in each file, as text or JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from voicemood.settings import Settings

NAME = "classify"
HELP = "Analyse audio files and print the tone of voice each one sounds like."

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per line per file (errors included)"
    )
    parser.add_argument("--lang", choices=("en", "ko"), help="language of the text answer")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from inference.errors import VoiceMoodError
    from voicemood.logs import configure_logging, secrets_of
    from voicemood.wiring import build_analyzer

    # Warnings only: stdout carries the answers, stderr stays quiet unless something is wrong.
    configure_logging(logging.WARNING, settings.log_json, secrets=secrets_of(settings))
    try:
        analyzer = build_analyzer(settings)
    except VoiceMoodError as error:
        print(f"voicemood: {error}", file=sys.stderr)
        return 2
    results = asyncio.run(_classify_all(analyzer, args.files))
    lang = args.lang or settings.language
    for path, outcome in zip(args.files, results, strict=True):
        print(_format(path, outcome, as_json=args.json, lang=lang), flush=True)
    failures = sum(1 for outcome in results if isinstance(outcome, BaseException))
    return 1 if failures == len(results) else 0


async def _classify_all(analyzer: Any, files: list[Path]) -> list[Any]:
    """Analyse every file concurrently (so the worker can batch), keeping each file's own outcome."""
    async with analyzer.worker:
        return await asyncio.gather(*(_one(analyzer, path) for path in files))


async def _one(analyzer: Any, path: Path) -> Any:
    from inference.errors import VoiceMoodError

    try:
        if not await asyncio.to_thread(path.is_file):
            raise FileNotFoundError(f"No such file: {path}")
        return await analyzer.analyse(path)
    except (VoiceMoodError, FileNotFoundError, PermissionError, IsADirectoryError) as error:
        return error
    except Exception as error:  # one bad file must not stop the others
        log.exception("unexpected failure analysing %s", path)
        return error


def _format(path: Path, outcome: Any, *, as_json: bool, lang: str) -> str:
    from bots.replies import render_error, render_prediction
    from inference.answer import Prediction
    from inference.errors import VoiceMoodError

    if as_json:
        record: dict[str, Any] = {"file": str(path)}
        if isinstance(outcome, Prediction):
            record.update(outcome.to_json())
        elif isinstance(outcome, VoiceMoodError):
            record.update(error=str(outcome), code=outcome.code)
        elif isinstance(outcome, OSError):
            record.update(error=str(outcome), code="file")
        else:
            record.update(error="Something went wrong while analysing this file.", code="error")
        line = json.dumps(record, ensure_ascii=False)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            # A file name that is not UTF-8 holds its bytes as surrogates: written as \udcXX
            # escapes the line stays valid UTF-8 JSON, and os.fsencode gives the name back.
            line = json.dumps(record)
        return line
    if isinstance(outcome, Prediction):
        return f"{path}: {render_prediction(outcome, lang)}"
    if isinstance(outcome, VoiceMoodError):
        return f"{path}: {render_error(outcome, lang)}"
    return f"{path}: {outcome}"

"""The `voicemood` command: one entry point for every job (classify, run, train, eval, export).

Each sub-command is a module in voicemood/commands with NAME, HELP, add_arguments(parser) and
run(args, settings) -> exit status; they import their heavy dependencies inside run(), so
`voicemood --help` stays instant.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from pydantic import ValidationError

from voicemood import commands
from voicemood.settings import Settings, describe_invalid


def main(argv: Sequence[str] | None = None) -> int:
    """Run `voicemood`; from the console script (argv None) first re-exec with a tuned allocator."""
    try:
        settings = Settings()
    except ValidationError as error:
        for sentence in describe_invalid(error):
            print(f"voicemood: {sentence}", file=sys.stderr)
        return 2
    if argv is None and settings.tune_allocator:
        _reexec_with_tuned_allocator()
    parser = argparse.ArgumentParser(
        prog="voicemood",
        description="Tells how the tone of voice in a recording sounds: an emotion, and how sure.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = _command_modules()
    words = list(sys.argv[1:] if argv is None else argv)
    if unknown := _unknown_command(words, [module.NAME for module in modules]):
        print(f"voicemood: {unknown}", file=sys.stderr)
        return 2
    for module in modules:
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    return int(args._run(args, settings))


def _unknown_command(words: list[str], names: list[str]) -> str | None:
    """A sentence for a mistyped command ("clasify": did you mean classify?), else None."""
    # The top-level parser has no option but --help, so the first word is the command.
    if not words or words[0].startswith("-") or words[0] in names:
        return None
    close = difflib.get_close_matches(words[0], names, n=1)
    hint = f"did you mean {close[0]}?" if close else f"the commands are {', '.join(names)}."
    return f"there is no command {words[0]!r}; {hint}"


def _reexec_with_tuned_allocator() -> None:
    """glibc reads its malloc settings only at start-up, so a process that lacks them restarts."""
    from inference.runtime import with_tuned_allocator

    env = with_tuned_allocator(os.environ)
    if env is None:
        return
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "voicemood", *sys.argv[1:]], env)


def _command_modules() -> list[ModuleType]:
    # Modules starting with "_" are shared helpers, not commands.
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    )
    return [importlib.import_module(f"voicemood.commands.{name}") for name in names]

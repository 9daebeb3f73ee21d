"""The `voicemood` command: one entry point for every job (classify, run, train, eval, export).

Each sub-command is a module in voicemood/commands with NAME, HELP, add_arguments(parser) and
run(args, settings) -> exit status; they import their heavy dependencies inside run(), so
`voicemood --help` stays instant.
"""

from __future__ import annotations

import argparse
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
    for module in _command_modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    return int(args._run(args, settings))


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

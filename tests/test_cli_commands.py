"""The `voicemood` command itself: mistyped commands, and --help that explains every option."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from tests.subprocess_env import voicemood_env

ROOT = Path(__file__).resolve().parents[1]


def _voicemood(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = voicemood_env()
    return subprocess.run(
        [sys.executable, "-m", "voicemood", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_a_mistyped_command_suggests_the_nearest_one_and_exits_2(tmp_path):
    result = _voicemood("clasify", "note.ogg", cwd=tmp_path)
    assert result.returncode == 2
    assert "did you mean classify?" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_command_like_no_other_lists_the_commands(tmp_path):
    result = _voicemood("zzz", cwd=tmp_path)
    assert result.returncode == 2
    assert "classify" in result.stderr and "train" in result.stderr


@pytest.mark.parametrize("name", ["train", "eval", "classify", "run", "export_feedback"])
def test_every_option_of_a_command_is_described_in_its_help(name):
    from importlib import import_module

    module = import_module(f"voicemood.commands.{name}")
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    undescribed = [
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert undescribed == []


def test_train_help_on_the_console_names_what_each_option_does(tmp_path):
    result = _voicemood("train", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "augmented copies of each training clip" in result.stdout
    assert "share of speakers held out" in result.stdout

"""A bad setting stops the console command at once with one sentence and exit status 2.

Each case runs the real `voicemood` command in a subprocess: the sentence must name the
variable, say what is wrong and what is allowed, and no Python traceback may reach the person.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.subprocess_env import voicemood_env

ROOT = Path(__file__).resolve().parents[1]


def _voicemood(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = voicemood_env()
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-m", "voicemood", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("VOICEMOOD_LANGUAGE", "fr", "'en' or 'ko'"),
        ("VOICEMOOD_PRECISION", "fp16", "'fp32', 'bf16' or 'int8'"),
        ("VOICEMOOD_WINDOW_S", "abc", "a valid number"),
        ("VOICEMOOD_MAX_FILE_MB", "-1", "greater than 0"),
        ("VOICEMOOD_QUEUE_SIZE", "0", "greater than or equal to 1"),
        ("VOICEMOOD_NOT_SURE_BELOW", "1.5", "less than or equal to 1"),
        ("VOICEMOOD_WEB_PORT", "70000", "less than or equal to 65535"),
    ],
)
def test_a_bad_setting_is_one_sentence_naming_it_and_exit_2(tmp_path, name, value, allowed):
    result = _voicemood("classify", "note.ogg", cwd=tmp_path, **{name: value})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{name}={value}" in lines[0] and allowed in lines[0], lines[0]


def test_cuda_on_a_torch_without_cuda_is_refused_before_anything_loads(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine's torch can use a GPU")
    result = _voicemood("classify", "note.ogg", cwd=tmp_path, VOICEMOOD_DEVICE="cuda")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "VOICEMOOD_DEVICE=cuda" in result.stderr and "use cpu" in result.stderr


def test_a_minimum_duration_above_the_maximum_names_both_settings(tmp_path):
    result = _voicemood(
        "run", cwd=tmp_path, VOICEMOOD_MIN_DURATION_S="20", VOICEMOOD_MAX_DURATION_S="10"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "VOICEMOOD_MIN_DURATION_S" in result.stderr
    assert "VOICEMOOD_MAX_DURATION_S" in result.stderr


def test_a_bad_setting_in_the_env_file_is_reported_the_same_way(tmp_path):
    (tmp_path / ".env").write_text("VOICEMOOD_MAX_DURATION_S=-5\n")
    result = _voicemood("classify", "note.ogg", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "VOICEMOOD_MAX_DURATION_S=-5" in result.stderr


def test_a_bot_token_is_never_echoed_in_a_settings_error(tmp_path):
    result = _voicemood(
        "run", cwd=tmp_path, VOICEMOOD_TELEGRAM_TOKEN="123:secret", VOICEMOOD_LANGUAGE="xx"
    )
    assert result.returncode == 2
    assert "secret" not in result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused_without_echoing_it(tmp_path):
    result = _voicemood(
        "export-feedback", "out", cwd=tmp_path, VOICEMOOD_DATABASE_URL="mysql://u:pw-9z@x/db"
    )
    assert result.returncode == 2
    assert "VOICEMOOD_DATABASE_URL is not a valid setting" in result.stderr
    assert "postgresql://" in result.stderr and "pw-9z" not in result.stderr


def test_an_unreachable_database_is_one_sentence_without_its_password(tmp_path):
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://voicemood:pw-7q@127.0.0.1:{port}/voicemood"
    result = _voicemood("export-feedback", "out", cwd=tmp_path, VOICEMOOD_DATABASE_URL=url)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Cannot open the PostgreSQL database at 127.0.0.1:{port}" in result.stderr
    assert "pw-7q" not in result.stderr


@pytest.mark.parametrize(
    ("ids", "expected"), [(None, None), ("0,1", [0, 1]), ("2-3", [2, 3]), ("3, 0-1", [0, 1, 3])]
)
def test_discord_shard_ids_read_as_numbers_and_ranges(ids, expected):
    from voicemood.settings import Settings

    settings = Settings(_env_file=None, discord_shard_count=4, discord_shard_ids=ids)

    assert settings.shard_ids() == expected


def test_shard_ids_beyond_the_count_stop_run_with_one_sentence(tmp_path):
    result = _voicemood(
        "run",
        cwd=tmp_path,
        VOICEMOOD_DISCORD_SHARD_COUNT="2",
        VOICEMOOD_DISCORD_SHARD_IDS="1-2",
    )

    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "VOICEMOOD_DISCORD_SHARD_IDS ('1-2') must be among 0..1" in line, line

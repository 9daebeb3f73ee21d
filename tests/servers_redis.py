"""A real Redis for tests: Debian's redis-server on 127.0.0.1, a free port, no persistence.

`redis_server` (session-scoped) starts one in a temp folder and stops it after the session;
`RedisServer.restart()` stops it and starts it again on the same port with its data lost, for
the fault tests. VOICEMOOD_TEST_REDIS_URL points the tests at a Redis of your own instead (it
must be on loopback, and cannot be restarted). Without redis-server the tests skip, naming the
package, except in CI (CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlparse

import pytest

LOOPBACK_NAMES = {"localhost"}


class RedisServer:
    """One redis-server child on loopback; `url` is what VOICEMOOD_REDIS_URL would be set to."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder = binary, folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port: everything it held is lost (no persistence)."""
        self.stop()
        self.start()


class ExternalRedis:
    """VOICEMOOD_TEST_REDIS_URL: someone else's Redis on loopback; it cannot be restarted."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        host = parsed.hostname or ""
        if host not in LOOPBACK_NAMES and not _is_loopback(host):
            raise pytest.UsageError(f"VOICEMOOD_TEST_REDIS_URL must be on loopback, not {host!r}")
        self.url = url

    def restart(self) -> None:
        pytest.skip("VOICEMOOD_TEST_REDIS_URL's server cannot be restarted by the tests")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer | ExternalRedis]:
    external = os.environ.get("VOICEMOOD_TEST_REDIS_URL")
    if external:
        yield ExternalRedis(external)
        return
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        message = "redis-server is not installed (Debian package: redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_prefix(request) -> str:
    """Keys of the test's own (VOICEMOOD_REDIS_PREFIX), so no test meets another's notes."""
    return f"test-{request.node.name}-{os.getpid()}-{time.monotonic_ns()}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _is_loopback(host: str) -> bool:
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False

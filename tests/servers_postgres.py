"""A throwaway PostgreSQL server for the tests: Debian's binaries, loopback only, one per session.

`postgres_server` starts a cluster in a temp folder (initdb, then pg_ctl), listening on 127.0.0.1
at a free port and on a unix socket in a folder of its own, and stops it when the session ends.
Root may not run PostgreSQL, so as root the cluster belongs to the `postgres` system user. With
VOICEMOOD_TEST_DATABASE_URL set (a loopback server), that server is used instead.
`fresh_database()` hands each test its own database, cloned from a template already migrated to
the latest schema (or empty, for the migration tests), so a test costs milliseconds, not an initdb.
Without the binaries the tests using it skip, naming the package, except in CI, where they fail.
"""

from __future__ import annotations

import asyncio
import glob
import ipaddress
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

TEMPLATE = "voicemood_template"
APT_PACKAGE = "postgresql"


@dataclass
class PostgresServer:
    """A running server: `url(name)` is the URL of one of its databases."""

    base_url: str
    # The cluster's folder when these tests started it (None for VOICEMOOD_TEST_DATABASE_URL's).
    data_dir: Path | None = None
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        parts = urlsplit(self.base_url)
        return urlunsplit(parts._replace(path="/" + database))

    def fresh_database(self, *, migrated: bool = True) -> str:
        """A new, empty database's URL: at the latest schema, or without any tables at all."""
        name = f"vm_test_{os.getpid()}_{next(self._names)}"
        template = TEMPLATE if migrated else "template0"
        _run_apart(self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return self.url(name)

    async def _admin(self, *statements: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url("postgres"))
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    def make_template(self) -> None:
        from storage.backends.postgres import PostgresBackend

        asyncio.run(
            self._admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}"', f'CREATE DATABASE "{TEMPLATE}"')
        )

        async def migrate() -> None:
            backend = await PostgresBackend.open(self.url(TEMPLATE))
            await backend.close()

        _run_apart(migrate())


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    given = os.environ.get("VOICEMOOD_TEST_DATABASE_URL")
    if given:
        _require_loopback(given)
        server = PostgresServer(given)
        server.make_template()
        yield server
        return
    bin_dir = find_binaries()
    cluster = Cluster(bin_dir)
    with cluster as url:
        server = PostgresServer(url, cluster.data)
        server.make_template()
        yield server


def _run_apart(job: Coroutine[Any, Any, None]) -> None:
    """Run `job` to the end on its own loop in its own thread (a test's loop may be running)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, job).result()


def find_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if found:
        return Path(found[-1]).parent
    message = (
        "PostgreSQL's server binaries (/usr/lib/postgresql/*/bin/initdb) are not installed; "
        f"`apt-get install {APT_PACKAGE}` runs the PostgreSQL half of the storage tests"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _version_key(path: str) -> int:
    version = Path(path).parents[1].name
    return int(version) if version.isdigit() else 0


class Cluster:
    """initdb + pg_ctl start in a temp folder; pg_ctl stop and the folder removed on exit."""

    def __init__(self, bin_dir: Path, *, crash_safe: bool = False) -> None:
        self.bin_dir = bin_dir
        # Tests: no fsync at all. crash_safe (bench/storage_postgres.py): files fsynced, commits
        # not waited for, like the SQLite store's WAL with synchronous=NORMAL.
        self.crash_safe = crash_safe
        self.root = Path(tempfile.mkdtemp(prefix="voicemood-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"

    def __enter__(self) -> str:
        self.sockets.mkdir()
        as_root = os.geteuid() == 0
        if as_root:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "voicemood", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        port = _free_port()
        # Throwaway data: no fsync, so a test's commit costs no disk flush.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={self.sockets}"
            " -c synchronous_commit=off -c max_connections=200"
        )
        if not self.crash_safe:
            options += " -c fsync=off -c full_page_writes=off"
        log = self.root / "server.log"
        try:
            self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "start")
        except subprocess.CalledProcessError:
            print(log.read_text() if log.exists() else "(no server log)")
            raise
        return f"postgresql://voicemood@127.0.0.1:{port}/postgres"

    def restart(self) -> None:
        """Stop the server (closing every connection) and start it again, with the same options."""
        log = str(self.root / "server.log")  # the server's output, or it would hold our pipes open
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-m", "fast", "-w", "restart")

    def __exit__(self, *exc: object) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.root)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _require_loopback(url: str) -> None:
    """Tests never reach past this machine: the given server must be on loopback (or a socket)."""
    host = urlsplit(url).hostname or ""
    if host in ("", "localhost") or host.startswith("/"):
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise pytest.UsageError(
            f"VOICEMOOD_TEST_DATABASE_URL must name a loopback server, not host {host!r}"
        )

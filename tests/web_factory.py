"""A real VoiceMood web server for tests: tiny HuBERT worker, SQLite store, aiohttp on port 0."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.core.service import VoiceMoodService
from bots.web.server import WebHandle, start_web
from inference.models.hf import HFAudioClassifier
from tests.service_factory import running_service

TABLES = ("persons", "chats", "consents", "notes", "votes")


@dataclass
class RunningWeb:
    web: WebHandle
    service: VoiceMoodService
    db_path: Path
    data_dir: Path

    def counts(self) -> dict[str, int]:
        """Rows per table, read straight from the SQLite file (what is really stored)."""
        with sqlite3.connect(self.db_path) as db:
            return {
                table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES
            }

    def audio_files(self) -> list[Path]:
        return sorted(p for p in self.data_dir.rglob("*") if p.is_file())


@asynccontextmanager
async def running_web(model_dir: Path, tmp_path: Path, **options: Any) -> AsyncIterator[RunningWeb]:
    """Everything `voicemood run` wires for the web page; `options` go to start_web."""
    db_path, data_dir = tmp_path / "web.sqlite3", tmp_path / "data"
    model = HFAudioClassifier.load(str(model_dir))
    async with running_service(model, tmp_path, db_name=db_path.name) as service:
        web = await start_web(service, host="127.0.0.1", port=0, **options)
        try:
            yield RunningWeb(web, service, db_path, data_dir)
        finally:
            await web.stop()

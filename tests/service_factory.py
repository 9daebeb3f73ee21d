"""The one way tests build what `voicemood run` wires: a store, a worker over a model, the service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bots.core.service import VoiceMoodService
from inference.analysis import AnalysisConfig, Analyzer
from inference.labels import CANONICAL_LABELS
from inference.models.base import EmotionModel
from inference.worker import InferenceWorker, WorkerConfig
from storage.store import Store
from voicemood.settings import Settings
from voicemood.wiring import build_service


@asynccontextmanager
async def running_service(
    model: EmotionModel,
    folder: Path,
    *,
    worker: WorkerConfig | None = None,
    analysis: AnalysisConfig | None = None,
    settings: Settings | None = None,
    db_name: str = "db.sqlite3",
    database: str | Path | None = None,
) -> AsyncIterator[VoiceMoodService]:
    """The service over a real database (a SQLite file in `folder`, unless `database` names
    another file or a PostgreSQL URL) and a running worker; both closed after."""
    store = await Store.open(database or folder / db_name, folder / "data", labels=CANONICAL_LABELS)
    try:
        async with InferenceWorker(model, worker or WorkerConfig()) as running:
            analyzer = Analyzer(running, analysis or AnalysisConfig())
            yield build_service(analyzer, store, settings)
    finally:
        await store.close()

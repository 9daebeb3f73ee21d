"""Helpers for the storage tests: a real Store on a SQLite file in a temp folder, and notes to fill it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from inference.labels import CANONICAL_LABELS
from storage.models import Chat, Person, StoredNote
from storage.store import Store

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def open_store(folder: Path) -> Store:
    return await Store.open(
        folder / "db" / "voicemood.sqlite3", folder / "data", labels=CANONICAL_LABELS
    )


def at(seconds: float) -> datetime:
    """A fixed UTC time `seconds` after T0, so ordering in tests never depends on the clock."""
    return T0 + timedelta(seconds=seconds)


async def add_note(
    store: Store,
    person: Person,
    chat: Chat,
    message_id: str | int,
    *,
    label: str = "happy",
    seconds: float = 0.0,
    audio: bytes | None = None,
    probabilities: dict[str, float] | None = None,
) -> StoredNote:
    other = "calm" if label == "neutral" else "neutral"
    probs = probabilities or {label: 0.75, other: 0.25}
    return await store.add_note(
        person,
        chat,
        message_id=message_id,
        duration_s=3.5,
        model="test-model-v1",
        label=label,
        confidence=max(probs.values()),
        probabilities=probs,
        at=at(seconds),
        audio=audio,
    )

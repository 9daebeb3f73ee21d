"""`voicemood export-feedback` on a real database (SQLite or PostgreSQL): only donated, voted
audio leaves it."""

import asyncio
import subprocess
import sys

import pytest

from data_augment.datasets import read_manifest
from inference.labels import CANONICAL_LABELS
from storage.backends import is_postgres_url
from storage.store import Store
from tests.storage_factory import database
from tests.subprocess_env import voicemood_env

pytestmark = pytest.mark.usefixtures("storage_backend")


def _export(out, tmp_path):
    target = database(tmp_path)
    where = "DATABASE_URL" if is_postgres_url(target) else "DATABASE"
    env = voicemood_env(
        inherit=False,
        VOICEMOOD_DATA_DIR=str(tmp_path / "data"),
        **{f"VOICEMOOD_{where}": str(target)},
    )
    return subprocess.run(
        [sys.executable, "-m", "voicemood", "export-feedback", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


async def _donors_and_votes(tmp_path):
    store = await Store.open(database(tmp_path), tmp_path / "data", labels=CANONICAL_LABELS)
    async with store:
        donor = await store.ensure_person("telegram", "1")
        other = await store.ensure_person("telegram", "2")
        await store.give_consent(donor, "donate_audio")
        for person, message in ((donor, "a"), (donor, "b"), (other, "c")):
            chat = await store.ensure_chat(
                "telegram", person.platform_user_id, "private", owner=person
            )
            note = await store.add_note(
                person,
                chat,
                message_id=message,
                duration_s=1.0,
                model="m",
                label="happy",
                confidence=0.9,
                probabilities={"happy": 0.9, "sad": 0.1},
                audio=b"OggS-audio-" + message.encode(),
            )
            if message != "b":  # b is donated but nobody voted: no final label, not exported
                await store.vote(other, note.id, "sad")


def test_export_writes_a_manifest_the_training_reader_loads(tmp_path):
    asyncio.run(_donors_and_votes(tmp_path))
    out = tmp_path / "export"
    result = _export(out, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 donated clips" in result.stdout
    (clip,) = read_manifest(out / "manifest.csv")
    assert clip.label == "sad"
    assert clip.path.read_bytes() == b"OggS-audio-a"
    again = _export(out, tmp_path)
    assert again.returncode == 2 and "not empty" in again.stderr

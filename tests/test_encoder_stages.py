"""Every stage of the packaged Whisper-base encoder (ONNX Runtime, int8), with the real weights."""

from __future__ import annotations

import numpy as np
import pytest

from inference.encoder import PACKAGED_SHA256, EncoderInfo, WhisperEncoder
from inference.encoder_graph import GRAPH_VERSION
from inference.encoder_stages import WhisperStagesEncoder, stages_graph
from inference.encoders import open_encoder
from tests import audio_factory

# Measured on RAVDESS clips: 0.997-0.999 (int8 against CTranslate2's int8). A graph with one
# block's attention or layer norm wired wrong falls far below this.
LAST_STAGE_MIN_R = 0.99


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def stages(cache_dir) -> WhisperStagesEncoder:
    encoder = open_encoder(stages="all", cache_dir=cache_dir, threads=2)
    assert isinstance(encoder, WhisperStagesEncoder)
    return encoder


@pytest.fixture(scope="module")
def last(cache_dir) -> WhisperEncoder:
    return WhisperEncoder(cache_dir=cache_dir, threads=2)


@pytest.fixture(scope="module")
def voices(shared_data) -> list[np.ndarray]:
    import soundfile as sf

    folder = shared_data / "ravdess" / "Actor_01"
    paths = [folder / "03-01-05-02-01-01-01.flac", folder / "03-01-04-01-02-01-01.flac"]
    return [sf.read(path, dtype="float32")[0] for path in paths]


def test_all_stages_give_seven_pooled_stages_per_clip(stages):
    rows = stages.embed([audio_factory.speechlike(2.0, seed=1), audio_factory.speechlike(3.0)])
    assert stages.info == EncoderInfo("whisper-base", PACKAGED_SHA256, 7168, stages="all")
    assert rows.shape == (2, 7 * 1024) and rows.dtype == np.float32 and np.isfinite(rows).all()
    stds = rows.reshape(2, 7, 2, 512)[:, :, 1]
    assert (stds >= 0).all() and (stds.mean(axis=-1) > 0).all()


def test_the_last_stage_matches_ctranslate2_on_real_speech(stages, last, voices):
    ours, theirs = stages.embed(voices), last.embed(voices)
    for mine, reference in zip(ours, theirs, strict=True):
        assert np.corrcoef(mine[-1024:], reference)[0, 1] > LAST_STAGE_MIN_R
    # And it is the last stage, not an earlier one, that matches.
    assert np.corrcoef(ours[0][:1024], theirs[0])[0, 1] < LAST_STAGE_MIN_R


def test_equal_length_clips_embed_alike_together_and_one_by_one(stages):
    clips = [audio_factory.speechlike(2.0, f0=f0, seed=i) for i, f0 in enumerate((120, 180, 240))]
    together = stages.embed(clips)
    alone = np.concatenate([stages.embed([clip]) for clip in clips])
    assert np.array_equal(together, alone)
    assert not np.allclose(together[0], together[1], atol=1e-2)


def test_a_clip_shorter_than_one_frame_and_a_long_note_embed(stages):
    tiny, empty = audio_factory.speechlike(0.005), np.zeros(0, np.float32)
    long = np.resize(audio_factory.speechlike(4.0), 34 * 16_000)  # past Whisper's 30 s window
    rows = stages.embed([tiny, empty, long])
    assert rows.shape == (3, 7168) and np.isfinite(rows).all()
    # Only the first 30 s are heard.
    assert np.allclose(rows[2], stages.embed([long[: 30 * 16_000]])[0], atol=1e-5)


def test_a_damaged_or_truncated_graph_is_built_again(stages):
    graph = stages_graph(stages.folder, PACKAGED_SHA256)
    whole = graph.read_bytes()
    with graph.open("r+b") as f:
        f.seek(len(whole) // 2)
        f.write(b"\xff" * 64)
    assert stages_graph(stages.folder, PACKAGED_SHA256).read_bytes() == whole
    graph.write_bytes(whole[: len(whole) // 3])
    rebuilt = stages_graph(stages.folder, PACKAGED_SHA256)
    assert rebuilt.read_bytes() == whole
    assert not list(stages.folder.glob("*.partial"))


def test_cache_ids_keep_last_stage_keys_and_set_all_stages_and_graph_versions_apart():
    last_info = EncoderInfo("whisper-base", PACKAGED_SHA256, 1024)
    all_info = EncoderInfo("whisper-base", PACKAGED_SHA256, 7168, stages="all")
    assert last_info.cache_id == PACKAGED_SHA256[:16]  # the keys existing caches were made with
    assert all_info.cache_id != last_info.cache_id
    # Vectors of the first all-stages graph were keyed "<sha>:all"; a later graph's never are.
    assert all_info.cache_id == f"{PACKAGED_SHA256[:16]}:all:graph{GRAPH_VERSION}"


def test_one_embedding_cache_keeps_last_and_all_stage_vectors_apart(
    toy_manifest, tmp_path, stages, last
):
    from data_augment.datasets import read_manifest
    from data_augment.embeddings import EmbeddingCache, embed_clips

    clips = read_manifest(toy_manifest)[:3]
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite3")
    try:
        first = embed_clips(clips, last, cache, progress=False)
        every = embed_clips(clips, stages, cache, progress=False)
        again = embed_clips(clips, last, cache, progress=False)
    finally:
        cache.close()
    assert first.vectors.shape == (3, 1024) and every.vectors.shape == (3, 7168)
    assert np.array_equal(first.vectors, again.vectors)


def test_an_unknown_stage_choice_is_refused(cache_dir):
    with pytest.raises(ValueError, match="stages"):
        open_encoder(stages="middle", cache_dir=cache_dir)


def test_every_stage_agrees_with_the_fp32_torch_rebuild(stages, voices):
    for ours, reference in zip(stages.embed(voices), _fp32_pooled(stages, voices), strict=True):
        for i in range(7):
            part = slice(i * 1024, (i + 1) * 1024)
            # int8 against fp32: 0.999-0.9999 per stage, measured.
            assert np.corrcoef(ours[part], reference[part])[0, 1] > 0.99, i


def test_the_bundled_head_answers_as_on_the_fp32_rebuilds_vectors(stages, shared_data):
    import soundfile as sf

    from inference.models import BUNDLED_DIR
    from inference.models.whisper_head import WhisperHeadModel

    # Every 60th clip of all 24 actors: 24 clips, each actor and emotion a few times.
    paths = sorted((shared_data / "ravdess").glob("Actor_*/*.flac"))[::60]
    clips = [sf.read(path, dtype="float32")[0] for path in paths]
    model = WhisperHeadModel.load(BUNDLED_DIR, encoder=stages)
    seconds = np.array([len(clip) / 16_000 for clip in clips], np.float32)
    ours = model.predict(clips)
    exact = model.classify(_fp32_pooled(stages, clips), seconds=seconds)
    # Measured on 67 clips: the same answer on 64-65 of them, probabilities up to 0.21 apart.
    assert (ours.argmax(1) == exact.argmax(1)).mean() >= 0.85
    assert np.abs(ours - exact).max() < 0.35


def _fp32_pooled(stages: WhisperStagesEncoder, clips: list[np.ndarray]) -> np.ndarray:
    """The torch fp32 rebuild's seven stages, pooled as the graph pools them."""
    import torch

    from inference.encoder import SAMPLES_PER_FRAME, log_mel
    from inference.encoder_graph import build_torch_encoder, read_ct2

    reference = build_torch_encoder(read_ct2(stages.folder / "model.bin"))
    rows = []
    for wave in clips:
        mel = torch.from_numpy(log_mel(stages._features, wave)[None])
        valid = -(-len(wave) // SAMPLES_PER_FRAME)
        kept = [output[0, :valid] for output in reference(mel)[1:]]
        rows.append(torch.cat([t for k in kept for t in (k.mean(0), k.std(0, correction=0))]))
    return torch.stack(rows).numpy()


def test_an_encoder_folder_of_the_users_gets_its_graph_in_the_cache_not_beside_it(stages, tmp_path):
    import os

    folder = tmp_path / "my-whisper"
    folder.mkdir()
    for item in stages.folder.iterdir():
        if item.name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
            os.symlink(item, folder / item.name)
    mine = open_encoder(str(folder), stages="all", cache_dir=tmp_path / "cache", threads=2)
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    assert list((tmp_path / "cache" / "encoders" / "stages").glob("stages-*.onnx"))
    clip = audio_factory.speechlike(1.5, seed=4)
    assert np.array_equal(mine.embed([clip]), stages.embed([clip]))

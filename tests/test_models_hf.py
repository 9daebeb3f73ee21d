import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoFeatureExtractor, HubertConfig, HubertForSequenceClassification

from inference.errors import ModelLoadError
from inference.models import load_model
from inference.models.hf import HFAudioClassifier
from tests.audio_factory import speechlike


@pytest.fixture(scope="module")
def tiny(tiny_hubert_dir) -> HFAudioClassifier:
    return HFAudioClassifier.load(str(tiny_hubert_dir))


def test_a_checkpoint_folder_loads_with_canonical_labels_in_canonical_order(tiny, tiny_hubert_dir):
    assert tiny.native_labels == ("neu", "hap", "ang", "sad")
    assert tiny.labels == ("neutral", "happy", "sad", "angry")
    assert tiny.name == f"hf:{tiny_hubert_dir}"


def test_load_model_sends_a_checkpoint_folder_to_the_transformers_backend(tiny_hubert_dir):
    assert isinstance(load_model(str(tiny_hubert_dir)), HFAudioClassifier)


def test_every_row_is_a_probability_distribution_over_the_labels(tiny):
    clips = [speechlike(1.0, seed=1), speechlike(1.0, seed=2), speechlike(1.7, seed=3)]
    for batch in (clips[:2], clips):  # equal lengths (stacked) and unequal (padded)
        rows = tiny.predict(batch)
        assert rows.shape == (len(batch), 4)
        assert np.all(rows >= 0)
        np.testing.assert_allclose(rows.sum(axis=1), 1.0, atol=1e-5)


def test_an_equal_length_batch_answers_like_one_clip_at_a_time(tiny):
    clips = [speechlike(1.2, seed=s) for s in range(3)]
    together = tiny.predict(clips)
    alone = np.concatenate([tiny.predict([clip]) for clip in clips])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_an_empty_batch_gives_no_rows(tiny):
    assert tiny.predict([]).shape == (0, 4)


def test_bf16_weights_keep_the_fp32_argmax(tiny_hubert_dir, tiny):
    half = HFAudioClassifier.load(str(tiny_hubert_dir), precision="bf16")
    assert next(half.model.parameters()).dtype == torch.bfloat16
    clips = [speechlike(0.5 + 0.1 * s, seed=s) for s in range(4)]
    full_rows = np.concatenate([tiny.predict([c]) for c in clips])
    half_rows = np.concatenate([half.predict([c]) for c in clips])
    assert half_rows.dtype == np.float32
    np.testing.assert_allclose(half_rows.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(half_rows, full_rows, atol=1e-2)
    assert (half_rows.argmax(axis=1) == full_rows.argmax(axis=1)).all()


def test_int8_quantizes_the_linear_layers_runs_convolutions_in_bf16_and_keeps_the_argmax(
    tiny_hubert_dir, tiny
):
    quantized = HFAudioClassifier.load(str(tiny_hubert_dir), precision="int8")
    modules = list(quantized.model.modules())
    assert not any(type(m) is torch.nn.Linear for m in modules)
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in modules)
    convs = [m for m in modules if isinstance(m, torch.nn.Conv1d)]
    assert convs and all(c.weight.dtype == torch.bfloat16 for c in convs)
    clips = [speechlike(0.5 + 0.1 * s, seed=s) for s in range(4)]
    full_rows = np.concatenate([tiny.predict([c]) for c in clips])
    int8_rows = np.concatenate([quantized.predict([c]) for c in clips])
    np.testing.assert_allclose(int8_rows.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(int8_rows, full_rows, atol=1e-2)
    assert (int8_rows.argmax(axis=1) == full_rows.argmax(axis=1)).all()


def test_int8_on_a_gpu_is_refused_before_loading(tiny_hubert_dir):
    with pytest.raises(ModelLoadError, match="CPU only"):
        HFAudioClassifier.load(str(tiny_hubert_dir), device="cuda", precision="int8")


def test_native_labels_sharing_a_canonical_label_have_their_probabilities_summed(
    tiny_hubert_dir, tmp_path
):
    # IEMOCAP's five-class set: "hap" and "exc" are both happy.
    folder = _retrained_labels(tiny_hubert_dir, tmp_path, ["neu", "hap", "exc", "ang", "sad"])
    model = HFAudioClassifier.load(str(folder))
    assert model.labels == ("neutral", "happy", "sad", "angry")

    clip = speechlike(1.5, seed=4)
    native = _native_probabilities(folder, clip)
    row = model.predict([clip])[0]
    assert row[model.labels.index("happy")] == pytest.approx(native[1] + native[2], abs=1e-5)
    assert row[model.labels.index("neutral")] == pytest.approx(native[0], abs=1e-5)
    assert row.sum() == pytest.approx(1.0, abs=1e-5)


def test_a_folder_without_a_model_raises_model_load_error_naming_the_setting(tmp_path):
    with pytest.raises(ModelLoadError) as caught:
        HFAudioClassifier.load(str(tmp_path))
    assert "VOICEMOOD_MODEL" in str(caught.value)
    assert str(tmp_path) in str(caught.value)


def test_a_missing_folder_raises_model_load_error_without_asking_the_hub(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelLoadError, match="VOICEMOOD_MODEL.*does not exist"):
        HFAudioClassifier.load(str(missing))


def test_a_model_without_emotion_labels_is_refused(tiny_hubert_dir, tmp_path):
    folder = _retrained_labels(tiny_hubert_dir, tmp_path, ["LABEL_0", "LABEL_1"])
    with pytest.raises(ModelLoadError, match="VOICEMOOD_MODEL"):
        HFAudioClassifier.load(str(folder))


def test_an_unknown_precision_raises_model_load_error(tiny_hubert_dir):
    with pytest.raises(ModelLoadError, match="precision"):
        HFAudioClassifier.load(str(tiny_hubert_dir), precision="fp8")


def _retrained_labels(tiny_dir: Path, tmp_path: Path, labels: list[str]) -> Path:
    """The tiny HuBERT's architecture with another label set, saved like a hub checkpoint."""
    torch.manual_seed(1)
    config = HubertConfig.from_pretrained(tiny_dir)
    config.num_labels = len(labels)
    config.id2label = dict(enumerate(labels))
    config.label2id = {label: i for i, label in enumerate(labels)}
    folder = tmp_path / "model"
    HubertForSequenceClassification(config).save_pretrained(folder)
    shutil.copy(tiny_dir / "preprocessor_config.json", folder)
    return folder


def _native_probabilities(folder: Path, clip: np.ndarray) -> np.ndarray:
    """The checkpoint's own softmax, computed with transformers alone."""
    extractor = AutoFeatureExtractor.from_pretrained(folder)
    model = HubertForSequenceClassification.from_pretrained(folder).eval()
    with torch.no_grad():
        logits = model(**extractor(clip, sampling_rate=16_000, return_tensors="pt")).logits
    return torch.softmax(logits, dim=-1)[0].numpy()

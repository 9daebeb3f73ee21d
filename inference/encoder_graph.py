"""Whisper's encoder rebuilt from a CTranslate2 model.bin: as an ONNX graph, or in torch.

CTranslate2 keeps its weights as named arrays in one file; `read_ct2` reads the encoder's, and
`build_graph` wires them into Whisper's pre-LN transformer with every stage's output pooled
(inference.encoder_stages runs it). `build_torch_encoder` is the same network in torch fp32: the
reference the int8 graph is checked against (tests, bench/), never loaded by the bot.

The graph is shaped for ONNX Runtime's CPU kernels (version 2, per-operator profile of a 5 s
note): the convolution stem is two matrix products, so it is quantised like every linear layer
(the fp32 Conv was 10 % of the time); attention is ONNX Runtime's fused MultiHeadAttention
(its reshapes, transposes and scaling were 9 %); and each stage's mean and std are products with
a row of pooling weights (ReduceMean over the frame axis was 6 %). bench/encoder.py --section
graph compares it with version 1.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any, cast

import numpy as np

# CTranslate2's variable dtypes in model.bin (bfloat16 is 5).
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_OPSET = 20  # the first with a Gelu operator
_CONTRIB = "com.microsoft"  # ONNX Runtime's own operators (MultiHeadAttention)
# Bump when the graph changes (its ops or its quantisation): cached graphs and the embedding
# cache's vectors of the old one are then made again, never mixed with the new.
GRAPH_VERSION = 2


def read_ct2(path: Path, prefix: str = "encoder/") -> dict[str, np.ndarray]:
    """The named arrays of a CTranslate2 model.bin (version 6 layout) under `prefix`, prefix cut.

    Float16 and bfloat16 arrays come back as float32; the file is mapped, not read whole.
    """
    arrays: dict[str, np.ndarray] = {}
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as raw:
        at = 0

        def number(fmt: str) -> int:
            nonlocal at
            (value,) = struct.unpack_from(fmt, raw, at)
            at += struct.calcsize(fmt)
            return int(value)

        def text() -> str:
            nonlocal at
            size = number("<H")
            value = raw[at : at + size].decode().rstrip("\0")
            at += size
            return value

        number("<I")  # binary version
        text()  # spec name
        number("<I")  # spec revision
        for _ in range(number("<I")):
            name = text()
            shape = [number("<I") for _ in range(number("<B"))]
            dtype, size = number("<B"), number("<I")
            start = at
            at += size
            if not name.startswith(prefix):
                continue
            data = raw[start : start + size]
            if dtype == 5:  # bfloat16: the high half of a float32
                array = (np.frombuffer(data, np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                array = np.frombuffer(data, _DTYPES[dtype])
            array = array.reshape(shape) if shape else array
            arrays[name.removeprefix(prefix)] = (
                array.astype(np.float32) if array.dtype == np.float16 else array
            )
    return arrays


def build_graph(enc: dict[str, np.ndarray]):  # noqa: ANN201 (onnx is imported lazily)
    """Whisper's encoder (pre-LN transformer) as an fp32 ONNX model: (mel, valid) -> pooled.

    `mel` is (batch, mels, frames) with an even frame count, `valid` a 1-element int64 tensor:
    how many output frames to pool. Output: (batch, 7 * 2 * width).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    heads = int(enc["num_heads"][0])
    depth = sum(k.endswith("self_attention/linear_1/weight") for k in enc)
    width = int(enc["layer_norm/gamma"].shape[0])
    mels = int(enc["conv1/weight"].shape[1])
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    counter = iter(range(1_000_000))

    def const(array: np.ndarray, name: str | None = None) -> str:
        name = name or f"c{next(counter)}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ops(kind: str, *inputs: str, outputs: int, domain: str = "", **attrs: Any) -> list[str]:
        names = [f"t{next(counter)}" for _ in range(outputs)]
        nodes.append(helper.make_node(kind, list(inputs), names, domain=domain, **attrs))
        return names

    def op(kind: str, *inputs: str, **attrs: Any) -> str:
        return ops(kind, *inputs, outputs=1, **attrs)[0]

    def linear_weights(x: str, weight: np.ndarray, bias: np.ndarray, prefix: str) -> str:
        product = op("MatMul", x, const(weight.astype(np.float32), f"{prefix}/weight"))
        return op("Add", product, const(bias.astype(np.float32)))

    def linear(x: str, prefix: str) -> str:
        return linear_weights(x, enc[f"{prefix}/weight"].T, enc[f"{prefix}/bias"], prefix)

    def norm(x: str, prefix: str) -> str:
        return op(
            "LayerNormalization",
            x,
            const(enc[f"{prefix}/gamma"]),
            const(enc[f"{prefix}/beta"]),
            axis=-1,
            epsilon=1e-5,
        )

    frames_axis = const(np.array([1], np.int64))
    zero, one, two = (const(np.array([n], np.int64)) for n in (0, 1, 2))
    pad_frames = const(np.array([0, 1, 0, 0, 1, 0], np.int64))
    head_size = width // heads

    def conv(x: str, prefix: str, frames: str, stride: int) -> str:
        """A width-3 convolution over (batch, frames, channels) as one matrix product, so it is
        quantised like the others: each output frame reads its 3 padded neighbours side by side."""
        padded = op("Pad", x, pad_frames)
        kernel = enc[f"{prefix}/weight"]  # (out, in, 3)
        weight = kernel.transpose(2, 1, 0).reshape(-1, kernel.shape[0])  # rows: (tap, in)
        if stride == 1:
            end = [frames, op("Add", frames, one), op("Add", frames, two)]
            taps = [
                op("Slice", padded, start, stop, frames_axis)
                for start, stop in zip((zero, one, two), end, strict=True)
            ]
            windows = op("Concat", *taps, axis=-1)
        else:  # stride 2 over an even frame count: frame t reads padded 2t, 2t+1 and 2t+2
            pairs = const(np.array([0, -1, 2 * kernel.shape[1]], np.int64))
            current = op("Reshape", op("Slice", padded, zero, frames, frames_axis), pairs)
            following = op(
                "Reshape", op("Slice", padded, two, op("Add", frames, two), frames_axis), pairs
            )
            channels = const(np.array([kernel.shape[1]], np.int64))
            first = op("Slice", following, zero, channels, const(np.array([2], np.int64)))
            windows = op("Concat", current, first, axis=-1)
        return op("Gelu", linear_weights(windows, weight, enc[f"{prefix}/bias"], prefix))

    mel_frames = op("Transpose", "mel", perm=[0, 2, 1])
    frames = op("Shape", mel_frames, start=1, end=2)
    x = conv(conv(mel_frames, "conv1", frames, stride=1), "conv2", frames, stride=2)
    count = op("Shape", x, start=1, end=2)
    positions = op("Slice", const(enc["position_encodings/encodings"]), zero, count, zero)
    x = op("Add", x, positions)
    # Pooling weights: 1/valid on the valid frames, 0 after, so each mean is one matrix product
    # (ReduceMean over the frame axis took 6 % of the graph's time).
    frame = op(
        "Range",
        const(np.array(0, np.int64)),
        op("Squeeze", count, zero),
        const(np.array(1, np.int64)),
    )
    kept = op("Cast", op("Less", frame, "valid"), to=TensorProto.FLOAT)
    average = op(
        "Reshape",
        op("Div", kept, op("Cast", "valid", to=TensorProto.FLOAT)),
        const(np.array([1, 1, -1], np.int64)),
    )

    def pooled(x: str) -> str:
        mean = op("MatMul", average, x)  # (batch, 1, width)
        spread = op("Sub", x, mean)
        std = op("Sqrt", op("MatMul", average, op("Mul", spread, spread)))
        return op("Squeeze", op("Concat", mean, std, axis=-1), frames_axis)

    thirds = const(np.array([width] * 3, np.int64))
    # Attention's 1/sqrt(head size) (1/8: a power of two, so exact) is folded into the query's
    # weights and bias.
    query_scale = np.ones(3 * width, np.float32)
    query_scale[:width] = 1.0 / np.sqrt(head_size)
    stages = []
    for i in range(depth):
        block = f"layer_{i}"
        qkv = f"{block}/self_attention/linear_0"
        q, k, v = ops(
            "Split",
            linear_weights(
                norm(x, f"{block}/self_attention/layer_norm"),
                enc[f"{qkv}/weight"].T * query_scale,
                enc[f"{qkv}/bias"] * query_scale,
                qkv,
            ),
            thirds,
            axis=-1,
            outputs=3,
        )
        # ONNX Runtime's fused attention: no head-split reshapes and transposes of its own.
        attended = op("MultiHeadAttention", q, k, v, domain=_CONTRIB, num_heads=heads, scale=1.0)
        x = op("Add", x, linear(attended, f"{block}/self_attention/linear_1"))
        hidden = op("Gelu", linear(norm(x, f"{block}/ffn/layer_norm"), f"{block}/ffn/linear_0"))
        x = op("Add", x, linear(hidden, f"{block}/ffn/linear_1"))
        stages.append(pooled(x))
    stages.append(pooled(norm(x, "layer_norm")))
    nodes.append(helper.make_node("Concat", stages, ["pooled"], axis=-1))
    graph = helper.make_graph(
        nodes,
        "whisper_encoder_stages",
        [
            helper.make_tensor_value_info("mel", TensorProto.FLOAT, ["batch", mels, "frames"]),
            helper.make_tensor_value_info("valid", TensorProto.INT64, [1]),
        ],
        [
            helper.make_tensor_value_info(
                "pooled", TensorProto.FLOAT, ["batch", (depth + 1) * 2 * width]
            )
        ],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid(_CONTRIB, 1)]
    )
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def build_torch_encoder(enc: dict[str, np.ndarray]):  # noqa: ANN201 (torch is imported lazily)
    """The same encoder in torch fp32, returning [conv stem output, block 1..6 outputs, final norm]."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    heads = int(enc["num_heads"][0])
    depth = sum(k.endswith("self_attention/linear_1/weight") for k in enc)

    def tensor(name: str) -> nn.Parameter:
        return nn.Parameter(torch.from_numpy(np.array(enc[name], np.float32)), requires_grad=False)

    def linear(prefix: str) -> nn.Linear:
        weight = enc[f"{prefix}/weight"]
        layer = nn.Linear(weight.shape[1], weight.shape[0])
        layer.weight, layer.bias = tensor(f"{prefix}/weight"), tensor(f"{prefix}/bias")
        return layer

    def norm(prefix: str) -> nn.LayerNorm:
        layer = nn.LayerNorm(enc[f"{prefix}/gamma"].shape[0])
        layer.weight, layer.bias = tensor(f"{prefix}/gamma"), tensor(f"{prefix}/beta")
        return layer

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            width, mels = enc["conv1/weight"].shape[:2]
            self.conv1 = nn.Conv1d(mels, width, 3, padding=1)
            self.conv2 = nn.Conv1d(width, width, 3, stride=2, padding=1)
            for i, conv in ((1, self.conv1), (2, self.conv2)):
                conv.weight, conv.bias = tensor(f"conv{i}/weight"), tensor(f"conv{i}/bias")
            self.positions = tensor("position_encodings/encodings")
            self.blocks = nn.ModuleList(
                nn.ModuleDict(
                    {
                        "norm1": norm(f"layer_{i}/self_attention/layer_norm"),
                        "qkv": linear(f"layer_{i}/self_attention/linear_0"),
                        "out": linear(f"layer_{i}/self_attention/linear_1"),
                        "norm2": norm(f"layer_{i}/ffn/layer_norm"),
                        "up": linear(f"layer_{i}/ffn/linear_0"),
                        "down": linear(f"layer_{i}/ffn/linear_1"),
                    }
                )
                for i in range(depth)
            )
            self.final = norm("layer_norm")

        @torch.no_grad()
        def forward(self, mel: torch.Tensor) -> list[torch.Tensor]:
            x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).transpose(1, 2)
            x = x + self.positions[: x.shape[1]]
            outputs = [x]
            batch, frames, width = x.shape
            for block in cast(list[nn.ModuleDict], list(self.blocks)):
                q, k, v = block["qkv"](block["norm1"](x)).split(width, -1)
                q, k, v = (t.reshape(batch, frames, heads, -1).transpose(1, 2) for t in (q, k, v))
                attended = F.scaled_dot_product_attention(q, k, v)
                x = x + block["out"](attended.transpose(1, 2).reshape(batch, frames, width))
                x = x + block["down"](F.gelu(block["up"](block["norm2"](x))))
                outputs.append(x)
            outputs.append(self.final(x))
            return outputs

    return Encoder().eval()

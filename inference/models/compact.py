"""The project's own compact emotion model: a small CNN on per-clip normalised log-mel features.

Small enough to ship inside the repository and fast on a CPU; attentive statistics pooling over
time lets it take a note of any length. A model folder holds `voicemood_model.json` (architecture,
labels, feature parameters, calibration temperature, what it was trained on) and the weights
(`model.safetensors`; safetensors comes with transformers and loads no code).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from inference.errors import ModelLoadError
from inference.features import FeatureConfig, LogMel
from inference.labels import CANONICAL_LABELS
from inference.models.base import COMPACT_MARKER

WEIGHTS_FILE = "model.safetensors"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class NetConfig:
    """The network's shape."""

    channels: tuple[int, ...] = (16, 32, 64, 128)
    convs_per_block: int = 1
    embed_dim: int = 128
    dropout: float = 0.3

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NetConfig:
        return cls(
            channels=tuple(int(c) for c in data.get("channels", cls.channels)),
            convs_per_block=int(data.get("convs_per_block", cls.convs_per_block)),
            embed_dim=int(data.get("embed_dim", cls.embed_dim)),
            dropout=float(data.get("dropout", cls.dropout)),
        )


@dataclass(frozen=True)
class ModelCard:
    """Everything `voicemood_model.json` records next to the weights."""

    labels: tuple[str, ...]
    version: str
    net: NetConfig = field(default_factory=NetConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    temperature: float = 1.0
    # Nets trained with different seeds whose logits are averaged (CompactEnsemble).
    members: int = 1
    training: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "architecture": "compact-cnn",
            "version": self.version,
            "labels": list(self.labels),
            "net": self.net.to_json(),
            "features": self.features.to_json(),
            "temperature": self.temperature,
            "members": self.members,
            "training": self.training,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelCard:
        return cls(
            labels=tuple(data["labels"]),
            version=str(data["version"]),
            net=NetConfig.from_json(data.get("net", {})),
            features=FeatureConfig.from_json(data.get("features", {})),
            temperature=float(data.get("temperature", 1.0)),
            members=int(data.get("members", 1)),
            training=dict(data.get("training", {})),
        )


class CompactNet(nn.Module):
    """Conv blocks over (mel, time), then attentive mean+std pooling over time, then a linear head."""

    def __init__(self, n_mels: int, n_classes: int, config: NetConfig | None = None) -> None:
        super().__init__()
        config = config or NetConfig()
        blocks: list[nn.Module] = []
        in_ch = 1
        for out_ch in config.channels:
            blocks.append(_ConvBlock(in_ch, out_ch, config.convs_per_block))
            in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        freq = n_mels
        for _ in config.channels:
            freq //= 2
        self.project = nn.Sequential(
            nn.Conv1d(in_ch * max(freq, 1), config.embed_dim, 1),
            nn.BatchNorm1d(config.embed_dim),
            nn.ReLU(),
        )
        self.attention = nn.Sequential(
            nn.Conv1d(config.embed_dim, 64, 1), nn.Tanh(), nn.Conv1d(64, 1, 1)
        )
        self.head = nn.Sequential(
            nn.Dropout(config.dropout), nn.Linear(2 * config.embed_dim, n_classes)
        )
        self.time_stride = 2 ** len(config.channels)
        self.n_classes = n_classes

    def forward(self, features: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits for features of shape (batch, n_mels, frames); `lengths` marks padded frames."""
        x = self.blocks(features.unsqueeze(1))
        batch, channels, freq, frames = x.shape
        x = self.project(x.reshape(batch, channels * freq, frames))
        scores = self.attention(x)
        if lengths is not None:
            valid = torch.clamp(torch.div(lengths, self.time_stride, rounding_mode="floor"), min=1)
            mask = torch.arange(frames, device=x.device)[None, :] < valid[:, None]
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        mean = (x * weights).sum(dim=-1)
        var = ((x - mean[..., None]).square() * weights).sum(dim=-1)
        pooled = torch.cat([mean, torch.sqrt(var + 1e-5)], dim=1)
        return self.head(pooled)


class CompactEnsemble(nn.Module):
    """CompactNets trained alike with different seeds; averaging their logits steadies the answer."""

    def __init__(self, members: Sequence[CompactNet]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.n_classes = members[0].n_classes

    @classmethod
    def build(
        cls, n_mels: int, n_classes: int, config: NetConfig | None = None, members: int = 1
    ) -> CompactEnsemble:
        """An untrained ensemble (weights are loaded into it)."""
        return cls([CompactNet(n_mels, n_classes, config) for _ in range(members)])

    def forward(self, features: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The members' mean logits."""
        return torch.stack([member(features, lengths) for member in self.members]).mean(dim=0)


class _ConvBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, convs: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(convs):
            layers += [
                nn.Conv2d(in_ch if i == 0 else out_ch, out_ch, 3, padding=1, bias=False),
                nn.BatchNorm2d(out_ch),
                nn.ReLU(),
            ]
        # ceil_mode keeps at least one frame for the shortest clips.
        layers.append(nn.MaxPool2d(2, ceil_mode=True))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class CompactModel:
    """A loaded compact model: the EmotionModel protocol over CompactNet."""

    def __init__(
        self, net: CompactNet | CompactEnsemble, card: ModelCard, device: str = "cpu"
    ) -> None:
        ensemble = net if isinstance(net, CompactEnsemble) else CompactEnsemble([net])
        self.net = ensemble.to(device).eval()
        self.card = card
        self.device = device
        self.labels: tuple[str, ...] = card.labels
        self.name = f"compact:{card.version}"
        self.features = LogMel(card.features)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> CompactModel:
        """Load a model folder written by `save`; a broken folder raises ModelLoadError."""
        folder = Path(path)
        try:
            card = ModelCard.from_json(json.loads((folder / COMPACT_MARKER).read_text("utf-8")))
            state = _read_weights(folder)
            unknown = [label for label in card.labels if label not in CANONICAL_LABELS]
            if unknown:
                raise ValueError(f"labels {unknown} are not canonical")
            net = CompactEnsemble.build(
                card.features.n_mels, len(card.labels), card.net, card.members
            )
            net.load_state_dict(state)
        except (OSError, KeyError, ValueError, RuntimeError) as error:
            raise ModelLoadError(
                f"Could not load the compact model in {folder}: {error}"
            ) from error
        return cls(net, card, device=device)

    def save(self, path: str | Path) -> Path:
        """Write the marker file and the weights into the folder `path`."""
        return save_model(self.net, self.card, path)

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """Calibrated probabilities, one row per waveform; each clip runs alone (no padding)."""
        if not batch:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        rows = [self.logits(wave) for wave in batch]
        logits = torch.stack(rows) / self.card.temperature
        return torch.softmax(logits, dim=-1).numpy().astype(np.float32)

    @torch.inference_mode()
    def logits(self, waveform: np.ndarray) -> torch.Tensor:
        """Uncalibrated logits of one waveform."""
        features = self.features(waveform).to(self.device)
        return self.net(features[None])[0].float().cpu()


def save_model(net: CompactNet | CompactEnsemble, card: ModelCard, path: str | Path) -> Path:
    """Write a model folder: the marker JSON and the weights."""
    from safetensors.torch import save_file

    if isinstance(net, CompactNet):
        net = CompactEnsemble([net])
    card = replace(card, members=len(net.members))
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu().contiguous() for key, value in net.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE), metadata={"format": str(FORMAT_VERSION)})
    text = json.dumps(card.to_json(), indent=2, ensure_ascii=False)
    (folder / COMPACT_MARKER).write_text(text + "\n", "utf-8")
    return folder


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(folder / WEIGHTS_FILE))

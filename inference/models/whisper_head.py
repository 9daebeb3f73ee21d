"""The default model: a pretrained Whisper encoder (inference.encoder) under a tiny emotion head.

The head is a standardiser plus a linear layer (multinomial logistic regression) over the
encoder's pooled (mean, std) embedding, trained in this repository by `voicemood train --arch
whisper-head` in seconds once embeddings are cached. A folder holds `voicemood_head.json` (labels,
the encoder it was trained on with its sha256, temperature, training summary) and
`head.safetensors` (numpy arrays; a few tens of KB).

Two heads may be stored: `population`, trained on embeddings standardised by the statistics of
all training speakers, and `speaker`, trained on embeddings standardised per speaker. A note
with no speaker baseline uses the first; a note whose speaker keeps a baseline is standardised
against it (inference.baseline) and scored by both, weighted by how many notes the baseline has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.baseline import PRIOR_NOTES, SpeakerBaseline
from inference.encoder import EncoderInfo, WhisperEncoder
from inference.errors import ModelLoadError
from inference.labels import CANONICAL_LABELS
from inference.models import HEAD_MARKER

HEAD_WEIGHTS = "head.safetensors"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class LinearHead:
    """Standardise, then one linear layer: logits = ((x - mean) / std) @ weight.T + bias."""

    mean: np.ndarray
    std: np.ndarray
    weight: np.ndarray  # (classes, dim)
    bias: np.ndarray  # (classes,)

    def logits(
        self, x: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None
    ) -> np.ndarray:
        """Logits of embeddings `x` (n, dim), standardised by `mean`/`std` (default: its own)."""
        mean = self.mean if mean is None else mean
        std = self.std if std is None else std
        z = (np.asarray(x, np.float32) - mean) / std
        return z @ self.weight.T + self.bias


@dataclass(frozen=True)
class HeadCard:
    """Everything `voicemood_head.json` records next to the weights."""

    labels: tuple[str, ...]
    version: str
    encoder: EncoderInfo
    temperature: float = 1.0
    speaker_temperature: float = 1.0
    training: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "architecture": "whisper-head",
            "version": self.version,
            "labels": list(self.labels),
            "encoder": {
                "name": self.encoder.name,
                "sha256": self.encoder.sha256,
                "dim": self.encoder.dim,
            },
            "temperature": self.temperature,
            "speaker_temperature": self.speaker_temperature,
            "training": self.training,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HeadCard:
        enc = data["encoder"]
        return cls(
            labels=tuple(data["labels"]),
            version=str(data["version"]),
            encoder=EncoderInfo(str(enc["name"]), str(enc["sha256"]), int(enc["dim"])),
            temperature=float(data.get("temperature", 1.0)),
            speaker_temperature=float(data.get("speaker_temperature", 1.0)),
            training=dict(data.get("training", {})),
        )


@dataclass(frozen=True)
class Heads:
    """The population head, and optionally the per-speaker head."""

    population: LinearHead
    speaker: LinearHead | None = None


class WhisperHeadModel:
    """The EmbeddingModel protocol over a WhisperEncoder and a trained head."""

    def __init__(self, encoder: WhisperEncoder, heads: Heads, card: HeadCard) -> None:
        if encoder.info.sha256 != card.encoder.sha256 or encoder.info.dim != card.encoder.dim:
            raise ModelLoadError(
                f"This emotion head was trained on the encoder {card.encoder.name} "
                f"(sha256 {card.encoder.sha256[:12]}...), but the encoder loaded is "
                f"{encoder.info.name} (sha256 {encoder.info.sha256[:12]}...): use the head made "
                "for this encoder, or unset VOICEMOOD_ENCODER.",
                head=card.encoder.name,
                encoder=encoder.info.name,
            )
        self.encoder = encoder
        self.heads = heads
        self.card = card
        self.labels: tuple[str, ...] = card.labels
        self.name = f"whisper-head:{card.version}"
        self.embedding_dim = encoder.info.dim

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        encoder: WhisperEncoder | None = None,
        encoder_spec: str | None = None,
        cache_dir: Path = Path("~/.cache/voicemood"),
        device: str = "cpu",
    ) -> WhisperHeadModel:
        """Load a head folder over `encoder` (or the encoder `encoder_spec` names)."""
        card, heads = read_head(Path(path))
        if encoder is None:
            encoder = WhisperEncoder(encoder_spec, cache_dir=cache_dir, device=device)
        return cls(encoder, heads, card)

    def embed(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        return self.encoder.embed(batch)

    def classify(self, embeddings: np.ndarray, baseline: object | None = None) -> np.ndarray:
        """Calibrated probabilities; a SpeakerBaseline standardises against that speaker's voice."""
        pop = self.heads.population
        probs = _softmax(pop.logits(embeddings) / self.card.temperature)
        if isinstance(baseline, SpeakerBaseline) and baseline.count > 0:
            head = self.heads.speaker or pop
            mean, std = baseline.blended(head.mean, head.std)
            temperature = (
                self.card.speaker_temperature if self.heads.speaker else self.card.temperature
            )
            own = _softmax(head.logits(embeddings, mean, std) / temperature)
            w = baseline.count / (baseline.count + PRIOR_NOTES)
            probs = w * own + (1.0 - w) * probs
        return probs.astype(np.float32)

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        if not batch:
            return np.zeros((0, len(self.labels)), np.float32)
        return self.classify(self.embed(batch))


def read_head(folder: Path) -> tuple[HeadCard, Heads]:
    """The card and heads of a head folder; a broken folder raises ModelLoadError."""
    from safetensors.numpy import load_file

    try:
        card = HeadCard.from_json(json.loads((folder / HEAD_MARKER).read_text("utf-8")))
        arrays = load_file(str(folder / HEAD_WEIGHTS))
        unknown = [label for label in card.labels if label not in CANONICAL_LABELS]
        if unknown:
            raise ValueError(f"labels {unknown} are not canonical")
        heads = Heads(
            population=_linear(arrays, "population", card),
            speaker=_linear(arrays, "speaker", card) if "speaker.weight" in arrays else None,
        )
    except (OSError, KeyError, ValueError) as error:
        raise ModelLoadError(f"Could not load the emotion head in {folder}: {error}") from error
    return card, heads


def save_head(heads: Heads, card: HeadCard, folder: str | Path) -> Path:
    """Write a head folder: the marker JSON and the weights."""
    from safetensors.numpy import save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for name, head in (("population", heads.population), ("speaker", heads.speaker)):
        if head is None:
            continue
        for part in ("mean", "std", "weight", "bias"):
            arrays[f"{name}.{part}"] = np.ascontiguousarray(getattr(head, part), np.float32)
    # Written as bytes, so the file gets the usual umask (save_file makes it owner-only, and a
    # bot running as another user could not read a retrained head).
    (folder / HEAD_WEIGHTS).write_bytes(save(arrays, metadata={"format": str(FORMAT_VERSION)}))
    text = json.dumps(card.to_json(), indent=2, ensure_ascii=False)
    (folder / HEAD_MARKER).write_text(text + "\n", "utf-8")
    return folder


def _linear(arrays: Mapping[str, np.ndarray], name: str, card: HeadCard) -> LinearHead:
    head = LinearHead(
        *(np.asarray(arrays[f"{name}.{p}"], np.float32) for p in ("mean", "std", "weight", "bias"))
    )
    if head.weight.shape != (len(card.labels), card.encoder.dim) or head.mean.shape != (
        card.encoder.dim,
    ):
        raise ValueError(f"{name} head of shape {head.weight.shape} for {len(card.labels)} labels")
    return head


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)

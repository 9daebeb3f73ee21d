"""The default model: a pretrained Whisper encoder (inference.encoder) under a tiny emotion head.

The head is a standardiser plus a linear layer (multinomial logistic regression) over the
encoder's pooled (mean, std) embedding, trained in this repository by `voicemood train --arch
whisper-head` in seconds once embeddings are cached. A folder holds `voicemood_head.json` (labels,
the encoder it was trained on with its sha256, temperature, training summary) and
`head.safetensors` (numpy arrays; a few tens of KB).

Two heads may be stored: `population`, trained on embeddings standardised by the statistics of
all training speakers, and `speaker`, trained on embeddings standardised per speaker (or per
language). A note with no baseline uses the first; a note whose language or speaker has running
statistics (inference.baseline) is standardised against them and scored by both, weighted by how
many notes the statistics hold: a new language is mostly a shift that its own unlabelled notes
correct (issue 20). The training languages' statistics ship in the head.

A head reads the encoder's last stage (the first heads) or all seven stages (`stages: "all"`,
inference.encoder); the card says which, and the model opens that encoder. Confidence is
calibrated per length: a short note's logits are divided by a larger temperature, because a head
is more often wrong, yet as sure, on one second of speech than on four (issue 24).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.baseline import PRIOR_NOTES, SpeakerBaseline
from inference.encoder import Encoder, EncoderInfo
from inference.encoders import open_encoder
from inference.errors import ModelLoadError
from inference.labels import CANONICAL_LABELS
from inference.models.base import HEAD_MARKER, SAMPLE_RATE
from inference.probability import softmax

HEAD_WEIGHTS = "head.safetensors"
FORMAT_VERSION = 1
# Notes' worth of weight the training population keeps when a language's statistics are blended in.
LANGUAGE_PRIOR_NOTES = 20.0


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
    # (longest seconds of speech, temperature) per length bucket, shortest first; a note longer
    # than the last bucket uses `temperature`. Empty: one temperature for every length.
    length_temperatures: tuple[tuple[float, float], ...] = ()
    # How much less sure a note in a language the head never trained on is told: its answer's
    # probabilities p become p ** (1 / stranger_temperature), renormalised. Fitted on corpora
    # held out whole (bench/head.py section 4); 1.0 in heads from before (no change).
    stranger_temperature: float = 1.0

    def temperatures_for(self, seconds: np.ndarray | None, n: int) -> np.ndarray:
        """The population head's temperature for each of `n` notes `seconds` long."""
        out = np.full(n, self.temperature, np.float32)
        if seconds is None or not self.length_temperatures:
            return out
        seconds = np.asarray(seconds, np.float32)
        for longest, temperature in reversed(self.length_temperatures):
            out[seconds <= longest] = temperature
        return out

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "architecture": "whisper-head",
            "version": self.version,
            "labels": list(self.labels),
            "encoder": {
                "name": self.encoder.name,
                "sha256": self.encoder.sha256,
                "dim": self.encoder.dim,
                "stages": self.encoder.stages,
            },
            "temperature": self.temperature,
            "speaker_temperature": self.speaker_temperature,
            "training": self.training,
        }
        if self.length_temperatures:
            data["length_temperatures"] = [list(pair) for pair in self.length_temperatures]
        if self.stranger_temperature != 1.0:
            data["stranger_temperature"] = self.stranger_temperature
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HeadCard:
        enc = data["encoder"]
        stages = str(enc.get("stages", "last"))  # heads from before all stages read the last
        return cls(
            labels=tuple(data["labels"]),
            version=str(data["version"]),
            encoder=EncoderInfo(str(enc["name"]), str(enc["sha256"]), int(enc["dim"]), stages),
            temperature=float(data.get("temperature", 1.0)),
            speaker_temperature=float(data.get("speaker_temperature", 1.0)),
            training=dict(data.get("training", {})),
            length_temperatures=tuple(
                (float(a), float(b)) for a, b in data.get("length_temperatures", ())
            ),
            stranger_temperature=float(data.get("stranger_temperature", 1.0)),
        )


@dataclass(frozen=True)
class Heads:
    """The population head, optionally the per-speaker head, and the training languages' statistics."""

    population: LinearHead
    speaker: LinearHead | None = None
    languages: Mapping[str, SpeakerBaseline] = field(default_factory=dict)


class WhisperHeadModel:
    """The EmbeddingModel protocol over a Whisper encoder (inference.encoder) and a trained head."""

    def __init__(self, encoder: Encoder, heads: Heads, card: HeadCard) -> None:
        if (encoder.info.sha256, encoder.info.dim, encoder.info.stages) != (
            card.encoder.sha256,
            card.encoder.dim,
            card.encoder.stages,
        ):
            raise ModelLoadError(
                f"This emotion head was trained on the encoder {card.encoder.name} "
                f"(sha256 {card.encoder.sha256[:12]}..., {card.encoder.stages} stages), but the "
                f"encoder loaded is {encoder.info.name} (sha256 {encoder.info.sha256[:12]}..., "
                f"{encoder.info.stages} stages): use the head made for this encoder, or unset "
                "VOICEMOOD_ENCODER.",
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
        encoder: Encoder | None = None,
        encoder_spec: str | None = None,
        cache_dir: Path = Path("~/.cache/voicemood"),
        device: str = "cpu",
    ) -> WhisperHeadModel:
        """Load a head folder over `encoder` (or the encoder `encoder_spec` names)."""
        card, heads = read_head(Path(path))
        if encoder is None:
            encoder = open_encoder(
                encoder_spec, stages=card.encoder.stages, cache_dir=cache_dir, device=device
            )
        return cls(encoder, heads, card)

    @property
    def training_languages(self) -> frozenset[str] | None:
        """The languages the head trained on (those whose statistics it ships); None: not said."""
        return frozenset(self.heads.languages) or None

    def embed(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        return self.encoder.embed(batch)

    def classify(
        self,
        embeddings: np.ndarray,
        baseline: object | None = None,
        *,
        seconds: np.ndarray | None = None,
        language: object | None = None,
    ) -> np.ndarray:
        """Calibrated probabilities of notes `seconds` long (of speech).

        A SpeakerBaseline standardises against that speaker's usual voice; `language` (a code
        whose statistics ship with the head, or running statistics of the language's own notes)
        against the voices of that language, until the speaker's baseline takes over. A language
        named (by its code, or the statistics' own) that the head never trained on is answered
        less surely, by the card's stranger temperature.
        """
        pop = self.heads.population
        temperature = self.card.temperatures_for(seconds, len(embeddings))[:, None]
        probs = softmax(pop.logits(embeddings) / temperature)
        relative = temperature / self.card.temperature
        others = self.heads.speaker or pop
        other_t = self.card.speaker_temperature if self.heads.speaker else self.card.temperature
        languages = self.heads.languages
        stats = languages.get(language) if isinstance(language, str) else language
        if (
            isinstance(stats, SpeakerBaseline)
            and stats.count > 0
            and stats.dim == pop.mean.shape[0]
        ):
            mean, std = stats.blended(others.mean, others.std, LANGUAGE_PRIOR_NOTES)
            own = softmax(others.logits(embeddings, mean, std) / (other_t * relative))
            w = stats.count / (stats.count + LANGUAGE_PRIOR_NOTES)
            probs = w * own + (1.0 - w) * probs
        if isinstance(baseline, SpeakerBaseline) and baseline.count > 0:
            mean, std = baseline.blended(others.mean, others.std)
            own = softmax(others.logits(embeddings, mean, std) / (other_t * relative))
            w = baseline.count / (baseline.count + PRIOR_NOTES)
            probs = w * own + (1.0 - w) * probs
        code = language if isinstance(language, str) else getattr(language, "language", "")
        if code and code not in languages and self.card.stranger_temperature != 1.0:
            probs = as_stranger(probs, self.card.stranger_temperature)
        return probs.astype(np.float32)

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        if not batch:
            return np.zeros((0, len(self.labels)), np.float32)
        seconds = np.array([len(wave) / SAMPLE_RATE for wave in batch], np.float32)
        return self.classify(self.embed(batch), seconds=seconds)


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
            languages={
                code: SpeakerBaseline(
                    int(arrays[f"languages.{code}.count"][0]),
                    np.asarray(arrays[f"languages.{code}.mean"], np.float32),
                    np.asarray(arrays[f"languages.{code}.m2"], np.float32),
                )
                for code in _language_codes(arrays)
            },
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
    for code, stats in heads.languages.items():
        arrays[f"languages.{code}.count"] = np.array([stats.count], np.float32)
        arrays[f"languages.{code}.mean"] = np.ascontiguousarray(stats.mean, np.float32)
        arrays[f"languages.{code}.m2"] = np.ascontiguousarray(stats.m2, np.float32)
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


def _language_codes(arrays: Mapping[str, np.ndarray]) -> list[str]:
    """The languages whose statistics a head file holds ("languages.<code>.count")."""
    return [
        name.split(".")[1]
        for name in arrays
        if name.startswith("languages.") and name.endswith(".count")
    ]


def as_stranger(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Each row's p ** (1 / temperature), renormalised: how a note in a language the head never
    trained on is answered (a temperature above 1 flattens it; the order stays)."""
    return softmax(np.log(np.clip(probs, 1e-12, 1.0)), temperature)

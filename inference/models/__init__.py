"""Choosing and loading a model: the bundled Whisper head, the compact fallback, a folder, a hub id."""

from __future__ import annotations

from pathlib import Path

from inference.errors import ModelNotConfigured
from inference.models.base import (
    COMPACT_MARKER,
    HEAD_MARKER,
    SAMPLE_RATE,
    EmbeddingModel,
    EmotionModel,
)

# The default: an emotion head over the packaged Whisper-base encoder (inference.encoder).
BUNDLED_DIR = Path(__file__).with_name("bundled")
# The smallest fallback, selected with VOICEMOOD_MODEL=compact: the project's own log-mel CNN.
COMPACT_DIR = Path(__file__).with_name("bundled_compact")

__all__ = [
    "BUNDLED_DIR",
    "COMPACT_DIR",
    "COMPACT_MARKER",
    "HEAD_MARKER",
    "SAMPLE_RATE",
    "EmbeddingModel",
    "EmotionModel",
    "head_folder",
    "load_model",
    "uses_transformers",
]


def load_model(
    spec: str | None,
    *,
    device: str = "cpu",
    precision: str = "fp32",
    encoder: str | None = None,
    cache_dir: Path = Path("~/.cache/voicemood"),
) -> EmotionModel:
    """Load the model named by `spec` (VOICEMOOD_MODEL); None means the bundled Whisper head.

    "compact" is the bundled compact CNN. A folder with a head marker loads a Whisper head over
    `encoder` (VOICEMOOD_ENCODER; None: the packaged Whisper-base); a folder with a compact-model
    marker loads the project's own CNN; any other folder or a hub id goes through transformers.
    """
    path = _path_of(spec)
    if (path / HEAD_MARKER).is_file():
        from inference.models.whisper_head import WhisperHeadModel

        return WhisperHeadModel.load(path, encoder_spec=encoder, cache_dir=cache_dir, device=device)
    if (path / COMPACT_MARKER).is_file():
        from inference.models.compact import CompactModel

        return CompactModel.load(path, device=device)
    if path in (BUNDLED_DIR, COMPACT_DIR):
        raise ModelNotConfigured(
            "No model is set and this installation has no bundled model. Set VOICEMOOD_MODEL "
            "to a local model folder or a hub id such as superb/hubert-large-superb-er."
        )
    from inference.models.hf import HFAudioClassifier

    return HFAudioClassifier.load(spec or str(path), device=device, precision=precision)


def head_folder(spec: str | None) -> Path | None:
    """The Whisper head folder `spec` (VOICEMOOD_MODEL) names; None for any other model."""
    path = _path_of(spec)
    return path if (path / HEAD_MARKER).is_file() else None


def uses_transformers(spec: str | None) -> bool:
    """Whether load_model(spec) goes through transformers (a hub id or a checkpoint folder).

    Lets a caller set transformers up (its logging) only when it will be imported: importing
    it costs about a second, a third of `classify`'s start with the default model.
    """
    path = _path_of(spec)
    markers = (path / HEAD_MARKER, path / COMPACT_MARKER)
    return not any(marker.is_file() for marker in markers) and path not in (
        BUNDLED_DIR,
        COMPACT_DIR,
    )


def _path_of(spec: str | None) -> Path:
    if spec is None or spec == "bundled":
        return BUNDLED_DIR
    if spec == "compact":
        return COMPACT_DIR
    return Path(spec).expanduser()

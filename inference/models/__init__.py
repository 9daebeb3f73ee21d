"""Choosing and loading a model: the bundled compact model, a local folder, or a hub id."""

from __future__ import annotations

from pathlib import Path

from inference.errors import ModelNotConfigured
from inference.models.base import SAMPLE_RATE, EmotionModel

BUNDLED_DIR = Path(__file__).with_name("bundled")
# A folder holding this file is one of the project's own compact models (data_augment trains them).
COMPACT_MARKER = "voicemood_model.json"

__all__ = ["BUNDLED_DIR", "COMPACT_MARKER", "SAMPLE_RATE", "EmotionModel", "load_model"]


def load_model(spec: str | None, *, device: str = "cpu", precision: str = "fp32") -> EmotionModel:
    """Load the model named by `spec` (VOICEMOOD_MODEL); None means the bundled model.

    A folder with a compact-model marker loads the project's own model; any other folder or a
    hub id goes through transformers' audio-classification loading.
    """
    if spec is None or spec == "bundled":
        if not (BUNDLED_DIR / COMPACT_MARKER).is_file():
            raise ModelNotConfigured(
                "No model is set and this installation has no bundled model. Set VOICEMOOD_MODEL "
                "to a local model folder or a hub id such as superb/hubert-large-superb-er."
            )
        spec = str(BUNDLED_DIR)
    path = Path(spec).expanduser()
    if (path / COMPACT_MARKER).is_file():
        from inference.models.compact import CompactModel

        return CompactModel.load(path, device=device)
    from inference.models.hf import HFAudioClassifier

    return HFAudioClassifier.load(spec, device=device, precision=precision)

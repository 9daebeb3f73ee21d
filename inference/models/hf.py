"""Any transformers audio-classification checkpoint (HuBERT, wav2vec2, WavLM, ...) as an EmotionModel.

transformers' Auto classes read the checkpoint's own config and feature extractor, so one loader
serves every architecture the hub offers, and the per-clip normalisation is the one the checkpoint
was trained with.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inference.errors import ModelLoadError
from inference.labels import canonical_columns, to_canonical
from inference.models.base import SAMPLE_RATE

PRECISIONS = ("fp32", "bf16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class HFAudioClassifier:
    """A transformers audio classifier whose outputs are merged onto canonical labels."""

    def __init__(
        self,
        model: Any,
        feature_extractor: Any,
        *,
        name: str,
        device: str = "cpu",
    ) -> None:
        self.model = model
        self.feature_extractor = feature_extractor
        self.name = name
        self.device = torch.device(device)
        self.dtype: torch.dtype = next(model.parameters()).dtype
        native = [str(model.config.id2label[i]) for i in range(model.config.num_labels)]
        self.native_labels: tuple[str, ...] = tuple(native)
        self.labels: tuple[str, ...] = canonical_columns(native)
        # (native, canonical) 0/1 matrix: several native labels on one canonical label add up.
        merge = np.zeros((len(native), len(self.labels)), np.float32)
        for i, label in enumerate(native):
            merge[i, self.labels.index(to_canonical(label))] = 1.0
        self._merge = merge

    @classmethod
    def load(cls, spec: str, *, device: str = "cpu", precision: str = "fp32") -> HFAudioClassifier:
        """Load a local checkpoint folder or a hub id; failures raise ModelLoadError naming VOICEMOOD_MODEL."""
        if precision not in _DTYPES:
            raise ModelLoadError(
                f"Unknown precision {precision!r} for VOICEMOOD_MODEL={spec}; "
                f"use one of {', '.join(PRECISIONS)}.",
                spec=spec,
            )
        from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

        local = Path(spec).expanduser().is_dir()
        source = str(Path(spec).expanduser()) if local else spec
        try:
            extractor = AutoFeatureExtractor.from_pretrained(source, local_files_only=local)
            # Loading straight into bf16 never holds an fp32 copy, which keeps peak memory down.
            model = AutoModelForAudioClassification.from_pretrained(
                source, local_files_only=local, dtype=_DTYPES[precision]
            )
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
            where = "the folder" if local else "the hub id"
            raise ModelLoadError(
                f"Could not load the model set by VOICEMOOD_MODEL={spec} ({where} holds no "
                f"transformers audio-classification checkpoint, or it is incomplete): {error}",
                spec=spec,
            ) from error
        if all(to_canonical(str(label)) == "other" for label in model.config.id2label.values()):
            raise ModelLoadError(
                f"The model set by VOICEMOOD_MODEL={spec} has no emotion labels "
                f"({', '.join(map(str, model.config.id2label.values()))}); it is not an emotion classifier.",
                spec=spec,
            )
        model.to(device).eval()
        return cls(model, extractor, name=f"hf:{spec}", device=device)

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities (len(batch), len(labels)) for 16 kHz mono float32 waveforms.

        Equal-length batches are stacked as they are. Unequal ones are padded with an attention
        mask, which changes the answer of models with a group-norm feature encoder (HuBERT-base,
        wav2vec2-base normalise over the padded length), so callers should batch equal lengths only.
        """
        if len(batch) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        same_length = len({len(w) for w in batch}) == 1
        inputs = self.feature_extractor(
            [np.asarray(w, np.float32) for w in batch],
            sampling_rate=SAMPLE_RATE,
            return_tensors="pt",
            padding=not same_length,
            # Unequal clips need the mask for per-clip normalisation and pooling over real samples.
            return_attention_mask=not same_length,
        )
        with torch.inference_mode():
            tensors = {key: self._to_model(value) for key, value in inputs.items()}
            logits = self.model(**tensors).logits
            native = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return native @ self._merge

    def _to_model(self, value: torch.Tensor) -> torch.Tensor:
        """Move one input to the model's device, in the weights' dtype when it is floating point."""
        if value.is_floating_point():
            return value.to(self.device, self.dtype)
        return value.to(self.device)

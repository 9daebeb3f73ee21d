"""Any transformers audio-classification checkpoint (HuBERT, wav2vec2, WavLM, ...) as an EmotionModel.

transformers' Auto classes read the checkpoint's own config and feature extractor, so one loader
serves every architecture the hub offers, and the per-clip normalisation is the one the checkpoint
was trained with.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from torch import nn

from inference.errors import ModelLoadError
from inference.labels import canonical_columns, to_canonical
from inference.models.base import SAMPLE_RATE

# fp32: as trained. bf16: weights in bfloat16, ~2x faster on CPUs with AVX-512 BF16.
# int8: dynamically quantized Linear layers with the convolutions in bf16 (CPU only): ~1.2x
# faster than bf16 on HuBERT-base, but it loads through fp32, so its peak memory is ~40 % higher.
PRECISIONS = ("fp32", "bf16", "int8")
_LOAD_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "int8": torch.float32}


class HFAudioClassifier:
    """A transformers audio classifier whose outputs are merged onto canonical labels."""

    def __init__(
        self,
        model: Any,
        feature_extractor: Any,
        *,
        name: str,
        device: str = "cpu",
        input_dtype: torch.dtype = torch.float32,
    ) -> None:
        self.model = model
        self.feature_extractor = feature_extractor
        self.name = name
        self.device = torch.device(device)
        self.input_dtype = input_dtype
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
        if precision not in PRECISIONS:
            raise ModelLoadError(
                f"Unknown precision {precision!r} for VOICEMOOD_MODEL={spec}; "
                f"use one of {', '.join(PRECISIONS)}.",
                spec=spec,
            )
        if precision == "int8" and device != "cpu":
            raise ModelLoadError(
                f"precision int8 runs on the CPU only (VOICEMOOD_MODEL={spec}); use bf16 on {device}.",
                spec=spec,
            )
        from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

        local = Path(spec).expanduser().is_dir()
        source = str(Path(spec).expanduser()) if local else spec
        if not local and (spec.startswith(("/", ".", "~")) or spec.count("/") > 1):
            raise ModelLoadError(
                f"VOICEMOOD_MODEL={spec} names a folder that does not exist.", spec=spec
            )
        # A hub id already in the cache loads without the network; otherwise one quick question
        # to the hub tells "no network" apart from a bad id before transformers' own download,
        # which retries for ~50 s offline and then blames the checkpoint (issue 16).
        offline = local or _in_hub_cache(source)
        if not offline:
            _check_hub_answers(spec)
        try:
            extractor = AutoFeatureExtractor.from_pretrained(source, local_files_only=offline)
            # Loading straight into bf16 never holds an fp32 copy, which keeps peak memory down.
            model = AutoModelForAudioClassification.from_pretrained(
                source, local_files_only=offline, dtype=_LOAD_DTYPES[precision]
            )
        # A truncated model.safetensors raises safetensors' own error, which is none of the others.
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as error:
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
        if precision == "int8":
            # Quantized modules cannot be pickled or saved, so quantizing happens here, at load.
            model = _int8_with_bf16_convs(model)
        input_dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        return cls(model, extractor, name=f"hf:{spec}", device=device, input_dtype=input_dtype)

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
        """Move one input to the model's device, in the model's input dtype when floating point."""
        if value.is_floating_point():
            return value.to(self.device, self.input_dtype)
        return value.to(self.device)


_HUB_PROBE_TIMEOUT_S = 5.0


def _in_hub_cache(repo_id: str) -> bool:
    """Whether the hub cache already holds a snapshot of `repo_id` (a config file at least)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:  # not a valid repo id: the hub check below says so
        return False


def _check_hub_answers(spec: str) -> None:
    """Raise ModelLoadError at once when the hub cannot be reached or has no such model."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        RepositoryNotFoundError,
    )

    try:
        HfApi().model_info(spec, timeout=_HUB_PROBE_TIMEOUT_S)
    except GatedRepoError:
        return  # it exists: the download says what access it needs
    except RepositoryNotFoundError as error:
        raise ModelLoadError(
            f"VOICEMOOD_MODEL={spec} is neither a local folder nor a model on the hub "
            "(or it is private); check the name.",
            spec=spec,
        ) from error
    except HfHubHTTPError:
        return  # the hub answered: the download reports anything else
    except HFValidationError as error:
        raise ModelLoadError(
            f"VOICEMOOD_MODEL={spec} is neither a local folder nor a valid hub id.", spec=spec
        ) from error
    # huggingface_hub does not re-export its HTTP client's errors (connection refused, no DNS,
    # time-outs); with HF_HUB_OFFLINE set it raises OfflineModeIsEnabled, a ConnectionError.
    except Exception as error:
        raise ModelLoadError(
            f"There is no network to fetch {spec}; download it where you have one and point "
            f"VOICEMOOD_MODEL at the folder (hf download {spec} --local-dir FOLDER).",
            spec=spec,
        ) from error


def _int8_with_bf16_convs(model: nn.Module) -> nn.Module:
    """Linear layers in dynamic int8; the convolutional blocks, which int8 leaves alone, in bf16.

    After int8 the fp32 conv feature encoder takes 60 % of HuBERT's time (ARCHITECTURE.md), so
    the blocks made of convolutions without Linear layers run in bfloat16 and hand float32 on.
    """
    blocks = _conv_blocks(model)
    with warnings.catch_warnings():
        # torch.ao's dynamic quantization is deprecated upstream in favour of the separate torchao
        # package (pytorch/pytorch#184982) yet still works in the pinned torch (.ci/run).
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from torch.ao.quantization import quantize_dynamic

        quantized = quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8, inplace=True)
    for block in blocks:
        block.to(torch.bfloat16)
        block.register_forward_pre_hook(_args_to_bf16)
        block.register_forward_hook(_output_to_fp32)
    return quantized


def _conv_blocks(model: nn.Module) -> list[nn.Module]:
    """The outermost submodules that hold convolutions and no Linear layer (HuBERT: 2)."""
    blocks: list[tuple[str, nn.Module]] = []
    for name, module in model.named_modules():
        if any(name.startswith(f"{outer}.") for outer, _ in blocks):
            continue
        kinds = [type(m) for m in module.modules()]
        has_conv = any(issubclass(k, nn.modules.conv._ConvNd) for k in kinds)
        if has_conv and not any(issubclass(k, nn.Linear) for k in kinds):
            blocks.append((name, module))
    return [module for _, module in blocks]


def _args_to_bf16(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        a.to(torch.bfloat16) if isinstance(a, torch.Tensor) and a.is_floating_point() else a
        for a in args
    )


def _output_to_fp32(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
    if isinstance(output, torch.Tensor) and output.is_floating_point():
        return output.float()
    return output

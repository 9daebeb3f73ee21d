"""HuBERT classifier folders with random weights, for the benchmarks.

A forward pass costs the same whatever the weights, so the benches build HuBERT from a config and
save it the way the hub stores checkpoints; loading then goes through the bot's own code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

SUPERB_LABELS = ("neu", "hap", "ang", "sad")  # superb/hubert-large-superb-er's id2label
# The test suite's tiny_hubert_dir (tests/conftest.py): the bot's own cost with nearly no model.
TINY: Mapping[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "conv_dim": (32,) * 7,
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
    "classifier_proj_size": 16,
}


def write_hubert(
    folder: Path, *, size: Mapping[str, Any] | None = None, attention_mask: bool = True
) -> Path:
    """HuBERT (HuBERT-base unless `size` overrides its config) with SUPERB-ER's labels, seed 0."""
    import torch
    from transformers import HubertConfig, HubertForSequenceClassification, Wav2Vec2FeatureExtractor
    from transformers.utils import logging

    logging.disable_progress_bar()
    torch.manual_seed(0)
    config = HubertConfig(
        num_labels=len(SUPERB_LABELS),
        id2label=dict(enumerate(SUPERB_LABELS)),
        label2id={label: i for i, label in enumerate(SUPERB_LABELS)},
        **(size or {}),
    )
    HubertForSequenceClassification(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=16_000,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=attention_mask,
    ).save_pretrained(folder)
    return folder


def hubert_base_mb() -> float:
    """HuBERT-base's fp32 weights (its parameter count times four bytes)."""
    from transformers import HubertConfig, HubertForSequenceClassification

    model = HubertForSequenceClassification(HubertConfig(num_labels=len(SUPERB_LABELS)))
    return sum(p.numel() for p in model.parameters()) * 4 / 1e6

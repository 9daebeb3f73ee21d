"""Tiny compact model folders for tests, written by the real save_model and loaded by the real code."""

from __future__ import annotations

from pathlib import Path

import torch

from inference.models.compact import CompactNet, ModelCard, NetConfig, save_model

TINY_NET = NetConfig(channels=(8, 16), embed_dim=16, dropout=0.0)
LABELS = ("neutral", "happy", "sad", "angry")


def compact_folder(folder: Path, version: str, seed: int) -> Path:
    """An untrained compact model named `compact:<version>`; a low temperature keeps two seeds'
    answers far apart, so a test can tell which model answered."""
    torch.manual_seed(seed)
    card = ModelCard(labels=LABELS, version=version, net=TINY_NET, temperature=0.05)
    return save_model(CompactNet(64, len(LABELS), TINY_NET), card, folder)

"""Which Whisper encoder a head reads: the last stage (CTranslate2) or every stage (ONNX Runtime).

The first heads pooled the encoder's last output, which CTranslate2 runs (inference.encoder); the
heads since issue 20 pool all seven stages, which inference.encoder_stages runs. A head's card
names its stages, and the model opens the matching encoder here.
"""

from __future__ import annotations

from pathlib import Path

from inference.encoder import Encoder, WhisperEncoder
from inference.encoder_stages import WhisperStagesEncoder


def open_encoder(
    spec: str | None = None,
    *,
    stages: str = "last",
    cache_dir: Path = Path("~/.cache/voicemood"),
    device: str = "cpu",
    threads: int = 0,
) -> Encoder:
    """The encoder that pools `stages` ("last": CTranslate2, "all": every stage via ONNX Runtime)."""
    if stages == "last":
        return WhisperEncoder(spec, cache_dir=cache_dir, device=device, threads=threads)
    if stages == "all":
        return WhisperStagesEncoder(spec, cache_dir=cache_dir, device=device, threads=threads)
    raise ValueError(f"stages must be 'last' or 'all', not {stages!r}")

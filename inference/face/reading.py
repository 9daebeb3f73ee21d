"""How a face looks over a video note or in a photo: detect, crop, read, and average over frames.

The face is read as fer reads it (the weights were trained so): the detector's box made square,
10 px added around it, cut out of the frame (padded with its own bottom rows' grey where the box
runs off an edge), resized to 64x64 and scaled to [-1, 1]. Of several faces in a frame only the
largest is read, and the reading says so. The seven expressions are named on the canonical label
set (inference.labels: fear -> fearful, surprise -> surprised), so the plane and the replies are
shared with the voice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.face.detector import Box, FaceDetector
from inference.face.frames import image_frame, video_frames
from inference.face.network import FACE_SIZE, FER_LABELS
from inference.labels import to_canonical

FACE_LABELS: tuple[str, ...] = tuple(to_canonical(label) for label in FER_LABELS)
# fer's defaults (fer.FER: offsets=(10, 10), PADDING=40).
_OFFSET = 10
_PADDING = 40
# The whole frame is scanned again every this many frames (3 s at 3 frames a second), to see
# other faces that came into view; in between the face is followed where it was.
_RESCAN_EVERY = 9
_BATCH = 8


@dataclass(frozen=True)
class FaceReading:
    """A face's expression over a video (or in one photo); `label` is None when no face was seen.

    `probabilities` are the mean over the frames with a face, on canonical labels;
    `confidence` is the likeliest one's. `several_faces`: some frame held more than one face, and
    only the largest was read.
    """

    label: str | None
    confidence: float
    probabilities: Mapping[str, float] = field(default_factory=dict)
    frames: int = 0
    frames_with_face: int = 0
    several_faces: bool = False

    @property
    def found(self) -> bool:
        return self.label is not None

    def to_json(self) -> dict[str, Any]:
        """The `face` object of `classify --json` and the web answer."""
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "probabilities": {label: round(p, 4) for label, p in self.probabilities.items()},
            "frames": self.frames,
            "frames_with_face": self.frames_with_face,
            "several_faces": self.several_faces,
        }


class FaceModel:
    """The detector and the expression network, loaded once per process and shared by threads.

    Loading checks the weights' sha256 (inference.face.weights). One lock serialises the
    detector, as OpenCV's cascade is not thread safe (a few milliseconds a frame); the network
    holds no state.
    """

    def __init__(self, weights: Path | None = None, detector: FaceDetector | None = None) -> None:
        from inference.face.network import MiniXception
        from inference.face.weights import load_weights

        self._network = MiniXception(load_weights(weights))
        self._detector = detector or FaceDetector()
        self._lock = threading.Lock()

    def read_frames(self, frames: Iterable[np.ndarray]) -> FaceReading:
        """The largest face of each grey frame read, and the mean over the frames that had one.

        `frames` may be a stream (inference.face.frames.video_frames): each frame is looked at as
        it comes, while the next is decoded.
        """
        crops: list[np.ndarray] = []
        several = False
        last: Box | None = None
        count = 0
        for i, frame in enumerate(frames):
            count += 1
            with self._lock:
                face = None
                if last is not None and i % _RESCAN_EVERY:
                    face = self._detector.face_near(frame, last)
                if face is None:
                    boxes = self._detector.faces(frame)
                    several = several or len(boxes) > 1
                    face = boxes[0] if boxes else None
            if face is not None:
                crops.append(_crop(frame, face))
            last = face
        probabilities = self._classify(crops)
        return _reading(probabilities, frames=count, several_faces=several)

    def read_faces(self, faces: Sequence[np.ndarray]) -> FaceReading:
        """Grey images that are already cropped faces (no detector), read and averaged."""
        probabilities = self._classify([_resize(face) for face in faces])
        return _reading(probabilities, frames=len(faces), several_faces=False)

    def probabilities(self, faces: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 faces in, (N, 7) probabilities out in FER_LABELS order (the raw network)."""
        return self._classify(list(faces))

    def _classify(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        outputs = [np.zeros((0, len(FER_LABELS)), np.float32)]
        # A few faces at a time: activations stay small (~0.5 MB a face), at no cost in speed.
        for start in range(0, len(crops), _BATCH):
            batch = np.stack(crops[start : start + _BATCH]).astype(np.float32)
            outputs.append(self._network((batch / 255.0 - 0.5) * 2.0))
        return np.concatenate(outputs)


_model: FaceModel | None = None
_model_lock = threading.Lock()


def face_model() -> FaceModel:
    """The process's one FaceModel, loaded on first use (about 0.1 s)."""
    global _model
    with _model_lock:
        if _model is None:
            _model = FaceModel()
        return _model


def read_video(path: Path | bytes, *, fps: float = 3.0, max_frames: int = 60) -> FaceReading:
    """The face in a video (a path or its bytes): `fps` frames a second, at most `max_frames`.

    Raises UndecodableVideo (corrupt or not a video) and NoVideoStream (sound only).
    """
    model = face_model()  # loaded before the child starts, so no frame waits for it
    return model.read_frames(video_frames(path, fps=fps, max_frames=max_frames))


def read_image(path: Path | bytes, *, cropped: bool = False) -> FaceReading:
    """The face in a photo; `cropped`: the photo is already just the face (no detector)."""
    frame = image_frame(path)
    if cropped:
        return face_model().read_faces([frame])
    return face_model().read_frames([frame])


def _crop(frame: np.ndarray, box: Box) -> np.ndarray:
    """fer's crop: the box made square, `_OFFSET` px around it, padded with the frame's bottom grey."""
    x, y, width, height = box.x, box.y, box.width, box.height
    if height > width:
        x -= (height - width) // 2
        width = height
    elif width > height:
        y -= (width - height) // 2
        height = width
    fill = float(frame[-2:].mean())
    padded = np.pad(frame, _PADDING, mode="constant", constant_values=round(fill))
    x1 = max(0, x - _OFFSET + _PADDING)
    y1 = max(0, y - _OFFSET + _PADDING)
    x2 = x + width + _OFFSET + _PADDING
    y2 = y + height + _OFFSET + _PADDING
    return _resize(padded[y1:y2, x1:x2])


def _resize(face: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(face, (FACE_SIZE, FACE_SIZE))


def _reading(probabilities: np.ndarray, *, frames: int, several_faces: bool) -> FaceReading:
    if len(probabilities) == 0:
        return FaceReading(label=None, confidence=0.0, frames=frames)
    mean = probabilities.mean(axis=0)
    by_label = {label: float(p) for label, p in zip(FACE_LABELS, mean, strict=True)}
    best = max(by_label, key=by_label.__getitem__)
    return FaceReading(
        label=best,
        confidence=by_label[best],
        probabilities=by_label,
        frames=frames,
        frames_with_face=len(probabilities),
        several_faces=several_faces,
    )

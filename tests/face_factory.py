"""Real pictures and videos for the face tests: public-domain photos that installed packages ship.

matplotlib's sample data carries Grace Hopper's portrait (a US Navy photograph, public domain);
scikit-learn's carries two photos without a face (a Chinese temple, a flower). Videos are made
from them here by the real ffmpeg: the photo moved across a plain background, like a hand-held
round video note, with a voice track when one is given.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

from tests.audio_factory import SR, write_wav

# The face in grace_hopper.jpg (512x600) as the detector finds it: x, y, width, height.
HOPPER_FACE = (155, 104, 224, 224)


def hopper() -> Path:
    """Grace Hopper's portrait: one frontal face."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def china() -> Path:
    """A temple and trees: no face (the detector finds none, measured in bench/face.py)."""
    import sklearn

    return Path(os.path.dirname(sklearn.__file__)) / "datasets" / "images" / "china.jpg"


def grey(path: Path) -> np.ndarray:
    """A photo as grey uint8 pixels, decoded by OpenCV (the pinned wheel decodes the same everywhere)."""
    import cv2

    pixels = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert pixels is not None, path
    return pixels


def moving_photo_video(
    ffmpeg: str,
    photo: Path,
    path: Path,
    *,
    seconds: float = 4.0,
    voice: np.ndarray | None = None,
    side: int = 384,
    photo_width: int | None = None,
) -> Path:
    """An H.264 mp4 (side x side, 30 fps) of `photo` drifting across a grey field, AAC voice if given.

    The photo is scaled to `photo_width` (60 % of the side by default) and moves on a slow ellipse,
    so every frame differs, as in a hand-held round video note.
    """
    width = photo_width or int(side * 0.6)
    room = side - width
    cmd = [
        ffmpeg,
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"color=c=gray:s={side}x{side}:r=30:d={seconds:.2f}",
        "-loop",
        "1",
        "-i",
        str(photo),
    ]
    if voice is not None:
        wav = write_wav(path.with_name(path.stem + ".src.wav"), voice, SR)
        cmd += ["-i", str(wav), "-map", "2:a", "-c:a", "aac"]
    drift = f"x='{room // 2}+{room // 3}*sin(t)':y='{room // 4}+{room // 6}*cos(t)'"
    cmd += [
        "-filter_complex",
        f"[1:v]scale={width}:-2[photo];[0:v][photo]overlay={drift}:shortest=1[v]",
        "-map",
        "[v]",
        "-t",
        f"{seconds:.2f}",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(path),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    if voice is not None:
        path.with_name(path.stem + ".src.wav").unlink()
    return path


def port_check_faces() -> np.ndarray:
    """(8, 64, 64) uint8 faces the port is checked on (tests/fixtures/face_port_expected.json).

    Crops of the Hopper portrait (as found, mirrored, tighter, looser, shifted, darker, contrast
    stretched) and one seeded noise image; fixed coordinates, so no detector is involved.
    """
    import cv2

    photo = grey(hopper())
    x, y, w, h = HOPPER_FACE

    def cut(x0: int, y0: int, size: int) -> np.ndarray:
        return cv2.resize(photo[y0 : y0 + size, x0 : x0 + size], (64, 64))

    found = cut(x - 10, y - 10, w + 20)
    faces = [
        found,
        found[:, ::-1],
        cut(x + 20, y + 20, w - 40),
        cut(x - 40, y - 40, w + 80),
        cut(x + 15, y - 25, w + 20),
        (found.astype(np.float32) * 0.5).astype(np.uint8),
        np.clip((found.astype(np.float32) - 128) * 1.6 + 128, 0, 255).astype(np.uint8),
        np.random.default_rng(22).integers(0, 256, (64, 64)).astype(np.uint8),
    ]
    return np.ascontiguousarray(np.stack(faces))

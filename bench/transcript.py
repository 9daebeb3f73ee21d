"""How well and how fast the optional transcript works (inference.transcript).

    python bench/transcript.py [--clips 24] [--runs 7]

Accuracy: mean character error rate (inference.transcript.character_error_rate) on RAVDESS's two
sentences, spoken by the held-out actors 17-20 (a spread of emotions and intensities), and on
short Korean sentences synthesised by espeak-ng (synthetic speech, not people: skipped when
espeak-ng is absent). Timing: one 5 s note (a RAVDESS clip, repeated) through the real worker:
the emotion analysis alone, then the analysis with its transcript as the bot runs them
(side by side), alternately in the same run; the table shows the median of `--runs` of each.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from samples import SHARED_DATA, SR, five_seconds

STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
KOREAN = (
    "안녕하세요",
    "오늘 날씨가 좋네요",
    "저는 학교에 갑니다",
    "고맙습니다",
    "내일 다시 만나요",
    "이것은 사과입니다",
    "지금 몇 시예요",
    "배가 고파요",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24, help="RAVDESS clips to transcribe")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    args = parser.parse_args()
    from inference.transcript import Transcriber

    transcriber = Transcriber()
    print("| set | clips | mean CER | worst CER |")
    print("|---|---|---|---|")
    for name, pairs in (
        ("RAVDESS actors 17-20 (English)", _ravdess(args.data / "ravdess", args.clips)),
        ("espeak-ng Korean (synthetic)", _korean()),
    ):
        _accuracy(transcriber, name, pairs)
    print()
    asyncio.run(_timing(transcriber, args.data / "ravdess", args.runs))


def _accuracy(transcriber, name: str, pairs: list[tuple[str, np.ndarray]]) -> None:
    from inference.transcript import character_error_rate

    if not pairs:
        print(f"| {name} | 0 | - | - |")
        return
    rates = []
    for reference, samples in pairs:
        heard = transcriber.transcribe_now(samples)
        rates.append(character_error_rate(reference, heard.text))
        print(f"<!-- {heard.language} {reference!r} -> {heard.text!r} -->")
    print(f"| {name} | {len(rates)} | {statistics.mean(rates):.3f} | {max(rates):.3f} |")


def _ravdess(folder: Path, count: int) -> list[tuple[str, np.ndarray]]:
    import librosa

    if not (folder / "metadata.csv").is_file():
        return []
    with open(folder / "metadata.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if 17 <= int(r["speaker"]) <= 20]
    picked = random.Random(0).sample(rows, min(count, len(rows)))
    return [
        (STATEMENTS[r["statement"]], librosa.load(folder / r["path"], sr=SR)[0]) for r in picked
    ]


def _korean() -> list[tuple[str, np.ndarray]]:
    import librosa

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return []
    pairs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, sentence in enumerate(KOREAN):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run([espeak, "-v", "ko", "-s", "140", "-w", str(wav), sentence], check=True)
            pairs.append((sentence, librosa.load(wav, sr=SR)[0]))
    return pairs


async def _timing(transcriber, folder: Path, runs: int) -> None:
    from inference.analysis import Analyzer
    from inference.audio import Audio
    from inference.models import load_model
    from inference.worker import InferenceWorker

    audio = Audio(five_seconds(folder))
    worker = InferenceWorker(load_model(None))
    await worker.start()
    try:
        analyzer = Analyzer(worker)
        await asyncio.gather(analyzer.analyse_audio(audio), transcriber.transcribe(audio.samples))
        plain, both, alone = [], [], []
        for _ in range(runs):
            start = time.perf_counter()
            await analyzer.analyse_audio(audio)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            await asyncio.gather(
                analyzer.analyse_audio(audio), transcriber.transcribe(audio.samples)
            )
            both.append(time.perf_counter() - start)
            start = time.perf_counter()
            transcriber.transcribe_now(audio.samples)
            alone.append(time.perf_counter() - start)
    finally:
        await worker.close()
    p, b, a = (statistics.median(x) for x in (plain, both, alone))
    print("| 5 s note | analysis s | with transcript s | added s | ratio | transcript alone s |")
    print("|---|---|---|---|---|---|")
    print(f"| median of {runs} | {p:.3f} | {b:.3f} | {b - p:.3f} | {b / p:.2f} | {a:.3f} |")


if __name__ == "__main__":
    main()

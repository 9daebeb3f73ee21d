"""What the analyser hears under babble: the detector's speech against the main voice only.

    cd bench && python main_voice.py --data ../../shared/data [--floors 12 15 20] [--folds 0,3]

Silero hears other people talking as speech, so in a café the seconds before and after the
speaker, and the pauses, fill with other voices, and the pooled note drifts to their tone.
`inference.speech.main_voice` keeps only the speech within a floor of the note's loud speech.
Each held-out RAVDESS clip is heard whole, as a note is sent (its silence included), clean and
under babble (3-6 other speakers) at `--snr` dB, the way the analyser listens: the detector's
speech joined (`speech_only`, 0.1 s pads), and the main voice within each floor. "voiced span"
is how the training clips are cut (bench/head.py's "clean" rows), for reference.

Each fold's head is the shipped recipe's population head fitted on the other speakers, without
temperatures of its own (quick: a temperature does not change which tone is likeliest, so UAR is
exact). The honesty columns borrow the bundled head's length temperatures (fitted out of fold on
its training speakers, as the voiced span hears them), so they are an estimate: ECE, the share of
answers given at >= 80 % that are wrong, and how many answers are that sure. Embeddings are cached
in the same cache as bench/head.py. 8 classes, means over the folds. Not a test.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from embed_all import _content_hash, _encoder_id, embed_everything

from data_augment.embeddings import EmbeddingCache, with_babble_at
from data_augment.metrics import expected_calibration_error
from data_augment.waves import load_waveform
from data_augment.whisper_head import corpus_row_weights, fit_heads
from inference.labels import CANONICAL_LABELS
from inference.probability import softmax
from inference.speech import LEVEL_REACH_S, find_speech, main_voice, speech_only

BUNDLED = Path(__file__).resolve().parent.parent / "inference" / "models" / "bundled"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/voicemood"))
    parser.add_argument("--floors", type=float, nargs="*", default=[12.0, 15.0, 20.0])
    parser.add_argument("--snr", type=float, nargs="*", default=[10.0])
    parser.add_argument("--folds", default="0,1,2,3,4", help="folds of 4 actors: 0 is 01-04")
    args = parser.parse_args()
    started = time.perf_counter()
    cache_dir = args.cache_dir.expanduser()
    parts = embed_everything(args.data, cache_dir, snr=[], lengths=[])
    train = parts["train"]
    ravdess = [c for c in train.clips if c.corpus == "ravdess"]
    ravdess = list({c.path: c for c in ravdess}.values())
    folds = [int(f) for f in args.folds.split(",")]
    actors = {f"ravdess:{a:02d}" for fold in folds for a in range(4 * fold + 1, 4 * fold + 5)}
    talkers = [c.path for c in ravdess], [c.speaker for c in ravdess]
    ravdess = [c for c in ravdess if c.speaker in actors]  # only the clips a fold is scored on
    heard = {}
    for snr in [None, *args.snr]:
        heard.update(_hear(ravdess, talkers, cache_dir, snr, args.floors))
    print(f"embedded in {time.perf_counter() - started:.0f} s", flush=True)
    labels = tuple(x for x in CANONICAL_LABELS if x in {c.label for c in train.clips})
    speakers = np.array([c.speaker for c in train.clips])
    clean = train.kind_of() == "clean"
    card = json.loads((BUNDLED / "voicemood_head.json").read_text())
    buckets = [(float(a), float(b)) for a, b in card["length_temperatures"]]
    temperatures = (buckets, float(card["temperature"]))
    scores: dict[str, list[np.ndarray]] = {}
    for fold in folds:
        held = [f"ravdess:{a:02d}" for a in range(4 * fold + 1, 4 * fold + 5)]
        rows = train.take(np.flatnonzero(~np.isin(speakers, held)))
        fit = fit_heads(
            rows,
            labels,
            c=0.5,
            weights=corpus_row_weights(rows, {"korean": 5.0}),
            calibrate_folds=0,
            speaker_head=False,
        )
        head = fit.heads.population
        mine = np.flatnonzero(np.isin(speakers, held) & clean)
        truth = [c.label for c in (train.clips[i] for i in mine)]
        seconds = train.seconds[mine] if train.seconds is not None else np.full(len(mine), 3.0)
        scores.setdefault("clean: voiced span", []).append(
            _score(head.logits(train.vectors[mine]), seconds, truth, labels, temperatures)
        )
        for name, (clips, vectors, lengths) in heard.items():
            keep = [i for i, c in enumerate(clips) if c.speaker in held]
            truth = [clips[i].label for i in keep]
            logits = head.logits(vectors[keep])
            scores.setdefault(name, []).append(
                _score(logits, lengths[keep], truth, labels, temperatures)
            )
        print(f"fold {fold}: {time.perf_counter() - started:.0f} s", flush=True)
        _table(scores)


def _hear(clips, talking, cache_dir: Path, snr: float | None, floors: list[float]):  # noqa: ANN001, ANN202
    """Each clip whole (under babble at `snr`), heard by the detector and by each main-voice floor."""
    from inference.encoders import open_encoder

    encoder = open_encoder(None, stages="all", cache_dir=cache_dir)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite3")
    encoder_id = _encoder_id(encoder)
    talkers, speakers = talking  # every RAVDESS clip: the babble is drawn from the others
    where = "clean" if snr is None else f"{snr:g} dB babble"
    ways = {f"{where}: detector": 0.0} | {f"{where}: main voice {f:g} dB": f for f in floors}
    out: dict[str, list[np.ndarray]] = {name: [] for name in ways}
    lengths: dict[str, list[float]] = {name: [] for name in ways}
    for clip in clips:
        content = _content_hash(clip.path)
        kind = "clean" if snr is None else f"babble{snr:g}"
        keys = {
            n: f"{encoder_id}:{content}:heard-{kind}:mv{f:g}:reach{LEVEL_REACH_S:g}:pad0.1+s"
            for n, f in ways.items()
        }
        rows = {n: cache.get(k) for n, k in keys.items()}
        if any(row is None for row in rows.values()):
            wave = load_waveform(clip.path)
            if snr is not None:
                rng = np.random.default_rng(int(content[:12], 16))
                others = [p for p, s in zip(talkers, speakers, strict=True) if s != clip.speaker]
                wave = with_babble_at(wave, others, rng, snr)
            speech = find_speech(wave)
            for name, floor in ways.items():
                if rows[name] is not None:
                    continue
                # A clip the detector finds no speech in (2 of RAVDESS's shouts) is heard whole.
                kept = main_voice(wave, speech, floor)
                piece = speech_only(wave, kept, 0.1).samples if kept.spans else wave
                rows[name] = np.append(encoder.embed([piece])[0], np.float32(len(piece) / 16_000))
                cache.put(keys[name], rows[name])
        if len(out[next(iter(ways))]) % 200 == 199:
            cache.commit()  # an interrupted run keeps what it embedded
        for name in ways:
            out[name].append(rows[name][:-1])  # type: ignore[index]
            lengths[name].append(float(rows[name][-1]))  # type: ignore[index]
    cache.commit()
    cache.close()
    return {
        name: (clips, np.stack(vectors), np.asarray(lengths[name])) for name, vectors in out.items()
    }


def _score(logits, seconds, truth, labels, temperatures) -> np.ndarray:  # noqa: ANN001
    """UAR, ECE, wrong share among answers at >= 0.8, share of answers at >= 0.8."""
    buckets, longer = temperatures
    t = np.array([next((tb for edge, tb in buckets if s <= edge), longer) for s in seconds])
    probs = softmax(logits / t[:, None])
    pred = probs.argmax(axis=1)
    truth_i = np.array([labels.index(x) for x in truth])
    uar = float(np.mean([np.mean(pred[truth_i == k] == k) for k in np.unique(truth_i)]))
    sure = probs.max(axis=1) >= 0.8
    wrong = float(np.mean(pred[sure] != truth_i[sure])) if sure.any() else 0.0
    ece = expected_calibration_error(probs, truth_i)
    return np.array([uar, ece, wrong, float(sure.mean())])


def _table(scores: dict[str, list[np.ndarray]]) -> None:
    print(f"{'heard as':>34} {'UAR':>6} {'ECE':>6} {'wrong@80':>8} {'share@80':>8}   UAR per fold")
    for name, values in scores.items():
        mean = np.mean(values, axis=0)
        folds = " ".join(f"{v[0]:.3f}" for v in values)
        print(f"{name:>34} {mean[0]:6.3f} {mean[1]:6.3f} {mean[2]:8.3f} {mean[3]:8.2f}   {folds}")


if __name__ == "__main__":
    main()

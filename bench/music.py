"""How close music suggestions stay to the mood, how often songs come back, and what a draw costs.

    python bench/music.py [--draws 20] [--requests 100] [--seed 0]

Closeness: on a 5 x 5 grid of aims (valence and arousal each -0.8 .. +0.8), each aim asked for
`--draws` suggestions in a row (each avoiding the previous three, as a person's taps do), against
three songs drawn at random from the whole catalogue, and against the nearest three (the floor:
what a choice without any variety would give). Distances are on the -1..+1 plane. Rows per
`nearest` pool size (the shipped one is marked *), per quadrant of the plane and overall.

Repetition: `--requests` requests by one person, (a) all for the same mood (the worst case: a
person whose notes always sound alike) and (b) for moods drawn at random from the canonical
labels' places; counts distinct songs, the most often suggested song's share of requests, and
requests sharing a song with the one before (0 by construction).

Timing: one suggestion (sorting the catalogue around the aim) against drawing three random songs,
median of `--draws` x 25 calls each, in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence

from inference.labels import AFFECT
from inference.music import Song, aim, load_catalogue, suggest
from inference.music.suggest import NEAREST, distance

GRID = (-0.8, -0.4, 0.0, 0.4, 0.8)
POOLS = (3, 6, NEAREST, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    catalogue = load_catalogue()
    print(f"catalogue: {len(catalogue)} songs; aims: {len(GRID) ** 2}; draws per aim: {args.draws}")
    closeness(catalogue, args.draws, args.seed)
    repetition(args.requests, args.seed)
    timing(catalogue, args.draws, args.seed)


def closeness(catalogue: Sequence[Song], draws: int, seed: int) -> None:
    rng = random.Random(seed)
    aims = [(v, a) for v in GRID for a in GRID]
    rows: dict[str, dict[str, list[float]]] = {}
    for pool in POOLS:
        name = "nearest 3 (no variety)" if pool == 3 else f"suggest, pool {pool}"
        name += " *" if pool == NEAREST else ""
        rows[name] = _by_region(aims, lambda p, n=pool: _drawn(p, n, draws, rng))
    rows["3 random songs"] = _by_region(
        aims, lambda p: [_mean_distance(rng.sample(catalogue, 3), p) for _ in range(draws)]
    )
    regions = ["pleasant-excited", "pleasant-calm", "unpleasant-excited", "unpleasant-calm", "all"]
    print("\nmean distance of the three songs to the aim (lower is closer)")
    print(f"{'choice':28}" + "".join(f"{r:>20}" for r in regions) + f"{'vs random':>11}")
    baseline = statistics.fmean(rows["3 random songs"]["all"])
    for name, by_region in rows.items():
        means = [statistics.fmean(by_region[r]) if by_region[r] else float("nan") for r in regions]
        cells = "".join(f"{m:20.3f}" for m in means)
        print(f"{name:28}{cells}{means[-1] / baseline:10.2f}x")


def _by_region(
    aims: list[tuple[float, float]], measure: Callable[[tuple[float, float]], list[float]]
) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for point in aims:
        values = measure(point)
        found.setdefault("all", []).extend(values)
        if point[0] != 0 and point[1] != 0:  # the axes belong to no quadrant
            region = ("pleasant" if point[0] > 0 else "unpleasant") + (
                "-excited" if point[1] > 0 else "-calm"
            )
            found.setdefault(region, []).extend(values)
    return found


def _drawn(point: tuple[float, float], pool: int, draws: int, rng: random.Random) -> list[float]:
    last: list[str] = []
    found = []
    for _ in range(draws):
        songs = suggest(point, avoid=last if pool > 3 else (), rng=rng, nearest=pool)
        last = [s.key for s in songs]
        found.append(_mean_distance(songs, point))
    return found


def _mean_distance(songs: Sequence[Song], point: tuple[float, float]) -> float:
    return statistics.fmean(distance(s, point) for s in songs)


def repetition(requests: int, seed: int) -> None:
    rng = random.Random(seed)
    labels = [label for label in AFFECT if label != "other"]
    cases = {
        "same mood (sad), match": lambda: (AFFECT["sad"].valence, AFFECT["sad"].arousal, "match"),
        "same mood (sad), lift": lambda: (AFFECT["sad"].valence, AFFECT["sad"].arousal, "lift"),
        "random label moods, match": lambda: _label_place(rng.choice(labels)) + ("match",),
    }
    print(f"\nrepetition over {requests} requests by one person (3 songs each)")
    header = ("case", "distinct songs", "top song in", "shared with previous", "same three")
    print(f"{header[0]:28}" + "".join(f"{h:>22}" for h in header[1:]))
    for name, ask in cases.items():
        last: list[str] = []
        counts: Counter[str] = Counter()
        shared = same = 0
        for _ in range(requests):
            valence, arousal, mode = ask()
            keys = [s.key for s in suggest(aim(valence, arousal, mode), avoid=last, rng=rng)]
            shared += bool(set(keys) & set(last))
            same += set(keys) == set(last)
            counts.update(keys)
            last = keys
        top = counts.most_common(1)[0][1]
        cells = (f"{len(counts)}", f"{top / requests:.0%} of requests", f"{shared}", f"{same}")
        print(f"{name:28}" + "".join(f"{c:>22}" for c in cells))


def _label_place(label: str) -> tuple[float, float]:
    return AFFECT[label].valence, AFFECT[label].arousal


def timing(catalogue: Sequence[Song], draws: int, seed: int) -> None:
    rng = random.Random(seed)
    calls = draws * 25
    suggest((0.0, 0.0))  # the catalogue is read once per process, before timing
    runs = {"3 random songs (baseline)": lambda: rng.sample(catalogue, 3)}
    runs["suggest()"] = lambda: suggest((rng.uniform(-1, 1), rng.uniform(-1, 1)), rng=rng)
    results = {}
    for name, call in runs.items():
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        results[name] = statistics.median(times)
    baseline = results["3 random songs (baseline)"]
    print(f"\ntime per call, median of {calls}")
    for name, seconds in results.items():
        print(f"{name:28}{seconds * 1e3:10.3f} ms{seconds / baseline:10.1f}x")


if __name__ == "__main__":
    main()

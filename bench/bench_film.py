"""Film benchmark: fitting 50 hits over 40-240 BPM in free mode (target: under 1 s).

The hits are spotted on whole frames at 24 fps from a 97.3 BPM cue with beat, 8th and
16th hits and weights 1-3 (a fixed seed, so every run fits the same list). The median of
``ICTUS_BENCH_REPEATS`` runs (default 3) counts; the machine is shared and noisy.

``film_rows()`` gives the rows for bench/bench.py's table (what, ictus, peer, ratio,
target); ``main()`` prints them as their own Rich table.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from fractions import Fraction

REPEATS = int(os.environ.get("ICTUS_BENCH_REPEATS", "3"))


def fifty_hits() -> list[object]:
    from ictus.film.hits import Hit

    rng = random.Random(2024)
    beat = 60 / Fraction("97.3")
    beats = sorted(rng.sample(range(1, 200), 50))
    return [
        Hit(
            Fraction(round(b * beat * 24), 24),
            f"h{i}",
            Fraction(rng.choice([1, 1, 2, 3])),
            rng.choice(["beat", "8th", "16th"]),
        )
        for i, b in enumerate(beats)
    ]


def fit_time() -> tuple[float, str]:
    """Median seconds of one free-mode fit, and the best candidate as text."""
    from ictus.film.fit import fit_tempo
    from ictus.timebase import FPS_24

    hits = fifty_hits()
    times = []
    best = None
    for _ in range(REPEATS):
        start = time.perf_counter()
        best = fit_tempo(hits, rate=FPS_24, lo=40, hi=240, mode="free")[0]  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    assert best is not None
    hit, near, miss = best.counts
    return statistics.median(times), f"{float(best.bpm):.3f} BPM, {hit}/{near}/{miss}"


def film_rows() -> list[tuple[str, str, str, str, str]]:
    seconds, found = fit_time()
    return [(f"fit 50 hits, free, 40-240 BPM ({found})", f"{seconds:.3f} s", "", "", "< 1 s")]


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ictus film benchmark", title_justify="left")
    for col in ("what", "ictus", "peer", "ratio", "target"):
        table.add_column(col, justify="left" if col == "what" else "right")
    for row in film_rows():
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()

"""The practice figures of docs/PRACTICE.md: onset accuracy and beat-tracking F-measure.

- Onsets: synthetic plucked-string takes of the example song (``ictus.practice.takes``)
  in three rooms, ten seeds each, analysed with each onset detector, coarse (the
  library's own onset times) and refined (:func:`ictus.practice.onsets.refine`): the
  error of every note's reported deviation against the truth (median, 95th percentile,
  worst), notes missed and extra onsets, and the detector's time.
- Beats: the drum loops of ``DRUM_LOOPS`` (ramps, a meter change, 6/8), tight, with a
  drummer's spread of 10 ms, and with 20 ms in loud noise, through
  :func:`ictus.practice.conform.track_beats`: F-measure at 70 ms (mir_eval), the worst
  distance of a found beat to its true one, and the bars :func:`guess_bars` finds
  (downbeat F-measure at 70 ms).

Run with ``python bench/bench_practice.py`` (needs the practice extra and mir_eval).
"""

from __future__ import annotations

import time

import mir_eval
import numpy as np

from ictus.formats import parse_click
from ictus.practice.onsets import Detector, coarse_onsets, library_version, refine
from ictus.practice.takes import DRUM_LOOPS, SONG, make_drum_loop, make_take
from ictus.practice.timing import analyze
from ictus.tempomap import build_grid

ROOMS = {
    "dry": dict(rt60=0.0, noise_db=-60.0),
    "room": dict(rt60=0.35, wet=0.4, noise_db=-50.0),
    "noisy hall": dict(rt60=0.9, wet=0.8, noise_db=-32.0),
}
SEEDS = range(10)


def onsets_table() -> None:
    grid = build_grid(parse_click(SONG))
    print("| detector | room | onsets | median ms | p95 ms | worst ms | missed | extra | s/take |")
    print("|---|---|---|---|---|---|---|---|---|")
    for detector in Detector:
        name = library_version(detector)
        for room, options in ROOMS.items():
            rows: dict[str, list[float]] = {"coarse": [], "refined": []}
            missed = {"coarse": 0, "refined": 0}
            extra = {"coarse": 0, "refined": 0}
            seconds = 0.0
            for seed in SEEDS:
                take = make_take(grid, seed=seed, offset=0.5, spread=0.015, rest=0.1, **options)
                t0 = time.perf_counter()
                coarse = coarse_onsets(take.audio, take.rate, detector=detector)
                fine = refine(take.audio, take.rate, coarse)
                seconds += time.perf_counter() - t0
                truth = {
                    round(float(c), 6): float(d)
                    for c, d in zip(take.clicks, take.deviations, strict=True)
                }
                for kind, onsets in (("coarse", coarse), ("refined", fine)):
                    report = analyze(onsets, grid, offset=0.5)
                    found = {round(n.click, 6): n.deviation for n in report.notes}
                    missed[kind] += len(set(truth) - set(found))
                    extra[kind] += report.extra + len(set(found) - set(truth))
                    rows[kind] += [abs(found[c] - truth[c]) * 1000 for c in truth if c in found]
            for kind, errors in rows.items():
                e = np.array(errors)
                print(
                    f"| {name} | {room} | {kind} | {np.median(e):.2f} | "
                    f"{np.percentile(e, 95):.2f} | {e.max():.2f} | {missed[kind]} | "
                    f"{extra[kind]} | {seconds / len(SEEDS):.2f} |"
                )


def beats_table() -> None:
    from ictus.practice.conform import beats_to_map, guess_bars, track_beats

    print(
        "| loop | drummer | beats | found | F-measure (70 ms) | worst beat ms "
        "| downbeat F | bars found | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (text, lead) in DRUM_LOOPS.items():
        grid = build_grid(parse_click(text))
        for drummer, spread, noise in (
            ("tight", 0.0, -60.0),
            ("10 ms spread", 0.010, -60.0),
            ("20 ms spread, noise -20 dB", 0.020, -20.0),
        ):
            audio, truth = make_drum_loop(grid, seed=1, lead=lead, spread=spread, noise_db=noise)
            t0 = time.perf_counter()
            beats = track_beats(audio, 44100)
            seconds = time.perf_counter() - t0
            score = mir_eval.beat.f_measure(truth, beats.times, f_measure_threshold=0.07)
            tempo_map = beats_to_map(beats.times, guess_bars(beats))
            g = build_grid(tempo_map)
            in_bars = np.array([n not in ("lead", "pickup") for n in g.section_names])
            downs = g.time[in_bars[g.section] & (g.beat == 1) & (g.sub == 0)]
            truth_downs = truth[grid.beat[(grid.bar > 0) & (grid.sub == 0)] == 1]
            down_score = mir_eval.beat.f_measure(truth_downs, downs, f_measure_threshold=0.07)
            structure = " + ".join(
                f"{s.bars} {s.meter}" for s in tempo_map.sections if s.label != "lead"
            )
            worst = max(float(np.abs(truth - b).min()) for b in beats.times) * 1000
            print(
                f"| {name} | {drummer} | {len(truth)} | {len(beats.times)} | {score:.4f} | "
                f"{worst:.2f} | {down_score:.4f} | {structure} | {seconds:.1f} |"
            )


def main() -> None:
    onsets_table()
    print()
    beats_table()


if __name__ == "__main__":
    main()

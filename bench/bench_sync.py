"""MIDI clock and MTC: messages, worst timing error in samples, and what a block costs.

- The schedules alone, over a map with ramps of every shape, steps and meter changes
  (the test map of tests/test_sync_midi.py, about 24 s) at 48 kHz: how many messages,
  the worst distance of a message's frame from ``round(t * rate)`` of its exact time
  (the timeline's scalar exact path, not the vectorised one the schedule uses: target
  0 samples) and from ``t * rate`` itself (at most half a sample), and the cost of one
  256-frame block of :meth:`MidiClockOutput.render` and :meth:`MtcOutput.render`
  (median and 99.9th percentile, microseconds), plus the one-off table build.
- Through JACK: the test suite's player and separate recorder process on a private
  dummy-driver server, freewheel and real time; messages heard, worst error in samples
  against the expected frames, cycles masked around xruns.

Run it alone with ``python bench/bench_sync.py``.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

RATE = 48000
PERIOD = 256
TESTS = Path(__file__).resolve().parents[1] / "tests"


def _timeline() -> Any:
    sys.path.insert(0, str(TESTS))
    import test_sync_midi as t

    return t.parsed(), t


def schedules() -> dict[str, Any]:
    from ictus.sync import MidiClock, MidiClockOutput, MtcClock, MtcOutput
    from ictus.timebase import FPS_25, FPS_29_97_DF

    line, _ = _timeline()
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    clock = MidiClock(line, RATE)
    out["clock_table_ms"] = (time.perf_counter() - t0) * 1000
    end = int(float(line.duration) * RATE) + RATE
    # exact times of the clocks from the timeline's scalar path (Fractions)
    shift = line.count_in_quarters - line.origin_quarter
    cases = {
        "MIDI clock": (MidiClockOutput(clock), None),
        "MTC 25": (MtcOutput(MtcClock.for_timeline(line, FPS_25, RATE, "01:00:00:00")), FPS_25),
        "MTC 29.97 DF": (
            MtcOutput(MtcClock.for_timeline(line, FPS_29_97_DF, RATE, "01:00:00;00")),
            FPS_29_97_DF,
        ),
    }
    origin = line.grid_time(Fraction(0))
    for name, (output, fps) in cases.items():
        output.start(0)
        costs, msgs = [], []
        for frame in range(0, end, PERIOD):
            a = time.perf_counter_ns()
            got = output.render(frame, PERIOD)
            costs.append(time.perf_counter_ns() - a)
            msgs += [(frame + o, m) for o, m in got]
        worst_round = worst_ideal = 0.0
        if fps is None:
            ticks = [f for f, m in msgs if m == b"\xf8"]
            first = clock.count_at(0)
            for i, f in enumerate(ticks):
                t = line.grid_time_at(Fraction(first + i, 24) + shift)
                worst_round = max(worst_round, abs(f - round(t * RATE)))
                worst_ideal = max(worst_ideal, abs(f - float(t * RATE)))
        else:
            j0 = output.clock.first_at(0)
            for i, (f, _) in enumerate(msgs):
                t = origin + Fraction(j0 + i) / (4 * fps.fps)
                worst_round = max(worst_round, abs(f - round(t * RATE)))
                worst_ideal = max(worst_ideal, abs(f - float(t * RATE)))
        us = np.array(costs) / 1000
        out[name] = {
            "messages": len(msgs),
            "worst_vs_rounded": worst_round,
            "worst_vs_ideal": worst_ideal,
            "block_median_us": float(np.median(us)),
            "block_p999_us": float(np.percentile(us, 99.9)),
        }
    return out


def through_jack(freewheel: bool, seconds_script: bool) -> dict[str, Any] | None:
    from shutil import which

    if which("jackd") is None:
        return None
    line, t = _timeline()
    import jackserver
    from ictus.sync import MidiClock, MtcClock
    from ictus.timebase import FPS_25

    _, oracle, rate = t.CASES["bar 1, 1 bar count-in, 48 kHz"]
    server = jackserver.JackServer(rate=rate, period=PERIOD).start()
    try:
        clock = MidiClock(line, rate)
        mtc = MtcClock.for_timeline(line, FPS_25, rate, "10:00:00:00")
        script, end = t.clock_script(oracle, rate)
        if seconds_script:
            script, end = script[:3], script[2][0] + 4800
        player, data = t.record(server, clock, mtc, script, end, freewheel)
    finally:
        server.stop()
    c0 = player.c0
    late = [] if freewheel else data["late"]
    bad = [
        (lo - c0, hi - c0)
        for lo, hi in t.suspect_ranges(data["cycles"], late, PERIOD)
        + t.suspect_ranges(player.cycles, [] if freewheel else player.late, PERIOD)
    ]
    bad = [(lo, hi) for lo, hi in bad if hi > 0 and lo < end]  # inside the run only
    wants = [
        t.expected_clock(oracle, rate, script, end),
        t.mtc_expected(oracle, FPS_25, rate, script, end, "10:00:00:00"),
    ]
    result: dict[str, Any] = {"masked_ranges": len(bad), "seconds": end / rate}
    for name, port, want in zip(("MIDI clock", "MTC 25"), data["events"], wants, strict=True):

        def ok(x: int) -> bool:
            return not any(lo <= x < hi for lo, hi in bad)

        got = [(f - c0, bytes.fromhex(h)) for f, h in port if f - c0 < end and ok(f - c0)]
        w = [(f, m) for f, m in want if ok(f)]
        same = len(got) == len(w) and all(a[1] == b[1] for a, b in zip(got, w, strict=True))
        worst = max((abs(a[0] - b[0]) for a, b in zip(got, w, strict=True)), default=0)
        result[name] = {
            "heard": len(got),
            "expected": len(w),
            "same_bytes": same,
            "worst_error_samples": worst if same else None,
        }
    return result


def main() -> dict[str, Any]:
    """Measure and print; returns the numbers."""
    results: dict[str, Any] = {"schedules": schedules()}
    s = results["schedules"]
    table_ms = s["clock_table_ms"]
    print(f"sync schedules, {RATE} Hz, {PERIOD}-frame blocks (clock table {table_ms:.1f} ms)")
    print(f"{'output':<14}{'messages':>9}{'err vs round':>14}{'err vs t*rate':>15}"
          f"{'median us':>11}{'p99.9 us':>10}")  # fmt: skip
    for name in ("MIDI clock", "MTC 25", "MTC 29.97 DF"):
        r = s[name]
        print(
            f"{name:<14}{r['messages']:>9}{r['worst_vs_rounded']:>14.0f}"
            f"{r['worst_vs_ideal']:>15.3f}{r['block_median_us']:>11.1f}{r['block_p999_us']:>10.1f}"
        )
    for label, freewheel, short in (("freewheel", True, False), ("real time", False, True)):
        r = through_jack(freewheel, short)
        results[label] = r
        if r is None:
            print(f"JACK {label}: jackd not installed")
            continue
        print(f"through JACK, {label} ({r['seconds']:.1f} s, {r['masked_ranges']} masked ranges)")
        for name in ("MIDI clock", "MTC 25"):
            x = r[name]
            print(
                f"  {name:<12} heard {x['heard']:>5} of {x['expected']:>5}, "
                f"bytes equal {x['same_bytes']}, worst error {x['worst_error_samples']} samples"
            )
    return results


if __name__ == "__main__":
    main()

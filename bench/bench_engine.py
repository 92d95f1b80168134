"""The live engine's benchmark: what the audio callback costs, and xruns in real time.

- Callback cost per period at 64 and 256 frames, 48 kHz, the click on 2 of 8 outputs:
  median and 99.9th percentile, in microseconds and as a share of the period (target:
  p99.9 under 20 %). Measured twice: the transport and mixer alone, called back to back
  from a real-time thread (what ictus itself costs), and the whole JACK process callback
  inside a running JACK server (what the server waits for: ictus plus JACK-Client's
  Python glue and the copies into the port buffers).
- Xruns during a real-time run at 64 frames: 5 minutes by default, shorter with
  ``ICTUS_BENCH_SECONDS``. jackd names the client that was late for each xrun, so the
  table shows how many were ictus's and how many another's (the machine's).

Run it alone with ``python bench/bench_engine.py``; ``bench/bench.py`` calls :func:`main`.
It starts its own JACK server (dummy driver) and stops it at the end.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

RATE = 48000
CHANNELS = 8
CLICK_ON = (6, 7)  # outputs 7 and 8
SONG = "title: Bench\nsong: 400 4/4 120 sub=2\n"  # a click every 250 ms for 13 minutes
TARGET = 0.20


def _seconds() -> float:
    return float(os.environ.get("ICTUS_BENCH_SECONDS", "300"))


def _jackserver() -> Any:
    """The test suite's private-JACK-server helper (tests/jackserver.py)."""
    path = Path(__file__).resolve().parents[1] / "tests" / "jackserver.py"
    spec = importlib.util.spec_from_file_location("ictus_bench_jackserver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _stats(costs_ns: np.ndarray, period: int) -> dict[str, float]:
    us = costs_ns / 1000.0
    budget = period / RATE * 1e6
    median = float(np.median(us))
    p999 = float(np.percentile(us, 99.9))
    return {
        "median_us": median,
        "p999_us": p999,
        "median_share": median / budget,
        "p999_share": p999 / budget,
        "max_us": float(us.max()),
        "blocks": float(len(us)),
    }


def _realtime_thread() -> bool:
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(70))
    except (AttributeError, OSError):
        return False
    return True


def callback_cost(period: int, seconds: float = 60.0) -> dict[str, float]:
    """The transport + mixer for ``seconds`` of audio, block after block."""
    from ictus.engine.commands import Go
    from ictus.engine.plan import Outputs, build_plan
    from ictus.engine.transport import Transport
    from ictus.formats import parse_click
    from ictus.sounds import synth_voice

    plan = build_plan(
        parse_click(SONG),
        synth_voice("woodblock", RATE),
        rate=RATE,
        outputs=Outputs(CHANNELS, CLICK_ON),
    )
    transport = Transport(plan)
    transport.send(Go(None, plan, None, True))
    # channel-major, as the JACK backend hands it over
    out = np.zeros((CHANNELS, period), dtype=np.float32).T
    blocks = int(seconds * RATE / period)
    costs = np.zeros(blocks, dtype=np.int64)
    result: dict[str, Any] = {}

    def measure() -> None:
        result["rt"] = _realtime_thread()
        clock = time.perf_counter_ns
        process = transport.process
        for i in range(blocks):
            begin = clock()
            process(out, i * period)
            costs[i] = clock() - begin

    thread = threading.Thread(target=measure)
    thread.start()
    thread.join()
    stats = _stats(costs, period)
    stats["realtime_thread"] = float(result["rt"])
    return stats


def jack_run(period: int, seconds: float) -> dict[str, Any]:
    """Play through a private JACK server at ``period`` frames for ``seconds``."""
    from ictus.engine import Engine
    from ictus.engine.backends.jack import JackBackend
    from ictus.formats import parse_click

    helper = _jackserver()
    server = helper.JackServer(rate=RATE, period=period).start()
    try:
        mark = server.log_mark()
        backend = JackBackend(
            client_name="ictus-bench", connect="none", server=server.name, measure=1 << 20
        )
        engine = Engine(parse_click(SONG), backend, channels=CHANNELS, click_on=CLICK_ON)
        engine.open()
        try:
            engine.start()
            time.sleep(seconds)
            cycles = backend.cycles
            xruns = backend.xruns
        finally:
            engine.close()
        time.sleep(0.1)
        late = server.late_clients(mark)
    finally:
        server.stop()
    kept = min(cycles, len(backend.costs))
    costs = backend.costs[:kept] if cycles <= len(backend.costs) else backend.costs
    stats = _stats(costs, period)
    ours = sum(n for name, n in late.items() if name.startswith("ictus-bench"))
    return {
        **stats,
        "cycles": cycles,
        "xruns": xruns,
        "xruns_ictus": ours,
        "xruns_other": sum(late.values()) - ours,
        "seconds": seconds,
    }


def c_metronome_run(period: int, seconds: float) -> dict[str, Any] | None:
    """The same server and conditions with jack_metro (JACK's own C example client)
    in place of ictus: how many xruns the machine makes by itself."""
    import subprocess
    from shutil import which

    if which("jack_metro") is None:
        return None
    helper = _jackserver()
    server = helper.JackServer(rate=RATE, period=period).start()
    try:
        mark = server.log_mark()
        watch = server.client("bench-watch")
        xruns: list[float] = []
        watch.set_xrun_callback(lambda _delay: xruns.append(time.monotonic()))
        watch.activate()
        metro = subprocess.Popen(
            ["jack_metro", "-b", "240", "-n", "metro"],
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(seconds)
        metro.terminate()
        metro.wait(5)
        watch.deactivate()
        watch.close()
        time.sleep(0.1)
        late = server.late_clients(mark)
    finally:
        server.stop()
    return {"xruns": len(xruns), "late": dict(late), "seconds": seconds}


def _have_jackd() -> bool:
    from shutil import which

    return which("jackd") is not None


def main() -> dict[str, Any]:
    """Measure and print the table; returns the numbers (for bench/bench.py)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    results: dict[str, Any] = {}
    table = Table(title="audio callback per period, 48 kHz, click on 2 of 8 outputs")
    for col in ("callback", "frames", "median µs", "p99.9 µs", "median %", "p99.9 %", "< 20 %"):
        table.add_column(col, justify="right" if col != "callback" else "left")

    def row(what: str, period: int, s: dict[str, float]) -> None:
        ok = "yes" if s["p999_share"] < TARGET else "NO"
        table.add_row(
            what,
            str(period),
            f"{s['median_us']:.1f}",
            f"{s['p999_us']:.1f}",
            f"{100 * s['median_share']:.1f}",
            f"{100 * s['p999_share']:.1f}",
            ok,
        )

    for period in (64, 256):
        s = callback_cost(period)
        results[f"callback_{period}"] = s
        rt = "" if s["realtime_thread"] else " (no RT)"
        row(f"ictus alone{rt}", period, s)
    seconds = _seconds()
    if _have_jackd():
        short = min(seconds, 20.0)
        r256 = jack_run(256, short)
        results["jack_256"] = r256
        row("in JACK", 256, r256)
        r64 = jack_run(64, seconds)
        results["jack_64"] = r64
        row("in JACK", 64, r64)
        results["metro_64"] = c_metronome_run(64, min(seconds, 60.0))
    console.print(table)
    console.print(
        "ictus alone: transport + block mixer, from a real-time thread; in JACK: the "
        "whole process callback (ictus, JACK-Client's glue, port copies)"
    )
    if "jack_64" in results:
        r = results["jack_64"]
        xr = Table(title="xruns in real time: 64 frames, 48 kHz, dummy driver")
        for col in ("client", "seconds", "xruns", "per minute", "late: this client", "target"):
            xr.add_column(col, justify="right" if col != "client" else "left")
        minutes = r["seconds"] / 60
        xr.add_row(
            "ictus play",
            f"{r['seconds']:.0f}",
            str(r["xruns"]),
            f"{r['xruns'] / minutes:.1f}",
            str(r["xruns_ictus"]),
            "0 (idle machine)",
        )
        m = results.get("metro_64")
        if m is not None:
            xr.add_row(
                "jack_metro (C, for scale)",
                f"{m['seconds']:.0f}",
                str(m["xruns"]),
                f"{m['xruns'] / (m['seconds'] / 60):.1f}",
                str(m["late"].get("metro", 0)),
                "",
            )
        console.print(xr)
    else:
        console.print("jackd is not installed: no real-time run (apt-get install jackd2)")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)

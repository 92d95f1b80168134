"""Scaling benchmark (issue 11.10): time grows linearly with the number of sections.

Each case reads a map and builds its grid in process, once with the 100-section (or
100-event) baseline and once with ``ICTUS_BENCH_SECTIONS`` (default 10,000). The
``ratio`` column is the cost per section at the large size over the cost per section
at the baseline: about 1 for linear time, about 100 for quadratic time (the target is
under 2; a constant start-up cost makes it lower than 1). The median of
``ICTUS_BENCH_REPEATS`` runs (default 3) counts.

``beats_rows()`` runs ``ictus beats`` (a subprocess, as a user runs it) on a map of
``ICTUS_BENCH_CLICKS`` clicks (default 10 M, the limit) and on a 100-bar baseline of the
same section: wall time per bar as a ratio (about 1: linear) and peak RSS as a ratio
(about 1: constant memory; the whole grid took 958 MB here before it streamed).

``scaling_rows()`` gives rows for bench/bench.py's table; ``main()`` prints them alone.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPEATS = int(os.environ.get("ICTUS_BENCH_REPEATS", "3"))
LARGE = int(os.environ.get("ICTUS_BENCH_SECTIONS", "10000"))
BASE = 100


def _sections(n: int) -> str:
    # labelled sections of changing meters: each is a section (and a meter event in MIDI)
    return "".join(f"s{i}: 1 {3 + i % 3}/8 {600 + i % 7}\n" for i in range(n))


def _per_beat(n: int) -> str:
    return f"a: {n // 4} 4/4 " + ",".join(str(100 + i % 50) for i in range(n)) + "\n"


def _case(kind: str, n: int, folder: Path) -> Path:
    from ictus.formats import write_map
    from ictus.formats.clickfile import parse_click

    ext = {"json": "json", "midi": "mid"}.get(kind, "click")
    path = folder / f"{kind}-{n}.{ext}"
    if kind in ("click", "info"):
        path.write_text(_sections(n))
    elif kind == "tempi":
        path.write_text(_per_beat(n))
    else:
        write_map(parse_click(_sections(n), "x"), path)
    return path


def _work(kind: str) -> Callable[[Path], object]:
    from ictus.formats import read_map
    from ictus.tempomap import build_grid

    if kind == "info":
        from rich.console import Console

        from ictus.cli.summary import print_summary

        return lambda p: print_summary(read_map(p), Console(file=io.StringIO(), width=120))
    return lambda p: build_grid(read_map(p))


def _median(work: Callable[[Path], object], path: Path) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


CASES = {
    "click": ".click sections, read + grid",
    "json": "JSON sections, read + grid",
    "midi": "MIDI meter changes, read + grid",
    "tempi": "per-beat tempos (one section), read + grid",
    "info": "`info` (table included)",
}


def scaling_rows() -> list[tuple[str, str, str, str, str]]:
    """(what, ictus at the large size, the 100 baseline, per-section ratio, target)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="ictus-bench-scaling-") as tmpdir:
        folder = Path(tmpdir)
        for kind, what in CASES.items():
            large = LARGE // 5 if kind == "info" else LARGE
            work = _work(kind)
            base = _median(work, _case(kind, BASE, folder))
            big = _median(work, _case(kind, large, folder))
            ratio = (big / large) / (base / BASE)
            rows.append((f"{what}: {large:,} vs {BASE}", f"{big:.2f} s", f"{base:.3f} s",
                         f"{ratio:.2f}", "< 2 (linear)"))
    return rows


CLICKS = int(os.environ.get("ICTUS_BENCH_CLICKS", "10000000"))


def _beats_run(path: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of ``ictus beats PATH > /dev/null``."""
    import subprocess
    import sys

    ictus = str(Path(sys.executable).parent / "ictus")
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        proc = subprocess.Popen([ictus, "beats", str(path)], stdout=sink,
                                stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"bench: ictus beats {path} failed: {err}")
    return wall, usage.ru_maxrss // 1024


def beats_rows() -> list[tuple[str, str, str, str, str]]:
    """`ictus beats` of CLICKS clicks against 100 bars: time per bar and peak RSS ratios."""
    bars = CLICKS // 16  # 4/4 with four sixteenths a beat: 16 clicks a bar
    with tempfile.TemporaryDirectory(prefix="ictus-bench-beats-") as tmpdir:
        folder = Path(tmpdir)
        big, small = folder / "big.click", folder / "small.click"
        # 480 BPM keeps ten million clicks inside the 100-hour limit
        big.write_text(f"a: {bars} 4/4 480 sub=4\n")
        small.write_text(f"a: {BASE} 4/4 480 sub=4\n")
        base_wall, base_rss = min(_beats_run(small) for _ in range(REPEATS))
        wall, rss = _beats_run(big)  # once: it takes a while
    ratio = (wall / bars) / (base_wall / BASE)
    return [
        (f"`beats` of {bars * 16:,} clicks vs {BASE} bars: time", f"{wall:.1f} s",
         f"{base_wall:.2f} s", f"{ratio:.2f}", "< 2 (linear)"),
        ("  peak RSS", f"{rss} MB", f"{base_rss} MB", f"{rss / base_rss:.2f}",
         "< 2 (constant)"),
    ]


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="scaling with the number of sections", title_justify="left")
    for col in ("what", "large", "100 (baseline)", "per-section ratio", "target"):
        table.add_column(col, justify="left" if col == "what" else "right")
    for row in [*scaling_rows(), *beats_rows()]:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()

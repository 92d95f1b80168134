"""`make bench`: ictus side by side with a peer in the same run, as ratios.

Timings on a shared machine are noisy, so each command runs several times and the
median counts; ratios against a peer measured in the same run are what to compare.

- render of a 3-hour 120 BPM 4/4 map to 16-bit mono 48 kHz WAV, against sox making
  the same-length, same-format file of 20 ms beeps (wall time, peak RSS);
- a 10-minute render, start-up included, against the same sox command for 10 minutes,
  run in pairs (goal: within 2x sox; the ratio is the median of the pairs' ratios, and
  the bench says whether the goal is met);
- the start-up of the command alone (`ictus --version`, goal under 0.1 s; `ictus --help`),
  against a bare Python;
- computing a grid of 10^6 clicks (in-process);
- scaling with the number of sections (bench_scaling.py): 10,000 against a 100-section
  baseline, as a per-section ratio (1 = linear); ``ictus beats`` of 10 M clicks against
  100 bars (time per bar and peak RSS as ratios);
- ``film fit --map`` of 200 and 2,000 hits against 50 (bench_film.py), per-hit ratio; the
  same for 100, 200 and 2,000 hits all on one steady 120 BPM grid;
- then the live engine (bench_engine.py), the show's audio path (bench_show.py) and the
  callback under load from the frontends (bench_load.py).
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ICTUS = str(BIN / "ictus")
REPEATS = int(os.environ.get("ICTUS_BENCH_REPEATS", "3"))
#: ictus/sox pairs for the 10-minute render (short runs: more of them, for a steady median)
PAIRS = max(REPEATS, 15)


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"bench: {' '.join(cmd)} failed: {err}")
    return wall, usage.ru_maxrss // 1024


def median_run(cmd: list[str], cleanup: Path | None = None) -> tuple[float, int]:
    walls, rss = [], 0
    for _ in range(REPEATS):
        wall, peak = run(cmd)
        walls.append(wall)
        rss = max(rss, peak)
        if cleanup is not None:
            cleanup.unlink(missing_ok=True)
    return statistics.median(walls), rss


def paired_runs(
    a: list[str], b: list[str], cleanup: Path, pairs: int
) -> tuple[float, float, float]:
    """Run ``a`` and ``b`` in turn (a b a b ...): their median walls and the median of
    the pair-by-pair ratios a/b, which holds when a shared machine's speed drifts."""
    walls_a, walls_b, ratios = [], [], []
    for _ in range(pairs):
        wall_a, _ = run(a)
        cleanup.unlink(missing_ok=True)
        wall_b, _ = run(b)
        cleanup.unlink(missing_ok=True)
        walls_a.append(wall_a)
        walls_b.append(wall_b)
        ratios.append(wall_a / wall_b)
    return statistics.median(walls_a), statistics.median(walls_b), statistics.median(ratios)


def compile_bytecode() -> str:
    """Compile ictus's modules as ``pip install`` does, so no run pays for compiling them.

    An editable checkout compiles each module on its first import and keeps the result,
    unless PYTHONDONTWRITEBYTECODE is set; then every run would compile every module
    it imports (about 30 ms of the 10-minute render), which no installed ictus does.
    """
    import compileall

    import ictus

    ok = compileall.compile_dir(Path(ictus.__file__).parent, quiet=1)
    return "compiled first, as an installed package has it" if ok else "could not compile"


def sox_cmd(out: Path, beats: int) -> list[str]:
    return [
        "sox",
        "-D",
        "-n",
        "-r",
        "48000",
        "-c",
        "1",
        "-b",
        "16",
        str(out),
        "synth",
        "0.02",
        "sine",
        "1000",
        "fade",
        "h",
        "0",
        "0.02",
        "0.015",
        "gain",
        "-1",
        "pad",
        "0",
        "0.48",
        "repeat",
        str(beats - 1),
    ]


def grid_time() -> tuple[float, int]:
    from ictus.tempomap import Section, Tempo, TempoMap, build_grid

    # a million clicks inside ictus's 100-hour limit (66 h)
    sections = (
        Section(125_000, Tempo(240)),
        Section(125_000, Tempo("266.66"), sub=1),
        Section(1, Tempo(90), tempo_end=Tempo(140)),
    )
    tempo_map = TempoMap(sections)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        grid = build_grid(tempo_map)
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(grid)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    if shutil.which("sox") is None:
        raise SystemExit("bench: sox is not installed (apt-get install sox)")
    console = Console()
    rows: list[tuple[str, str, str, str, str]] = []
    goals: list[str] = []  # the start-up goals of issue 9, one line each
    with tempfile.TemporaryDirectory(prefix="ictus-bench-") as tmpdir:
        tmp = Path(tmpdir)
        three_hours = tmp / "3h.click"
        three_hours.write_text("5400 4/4 120\n")  # 21600 beats = 3 h
        ten_minutes = tmp / "10m.click"
        ten_minutes.write_text("300 4/4 120\n")  # 1200 beats = 10 min
        out = tmp / "out.wav"

        console.print(f"[bold]machine:[/] {machine()}")
        console.print(f"[bold]ictus bytecode:[/] {compile_bytecode()}")
        console.print(f"median of {REPEATS} runs each (the 10-minute render: of {PAIRS} pairs)\n")

        ic_wall, ic_rss = median_run(
            [
                ICTUS,
                "render",
                str(three_hours),
                "-o",
                str(out),
                "--bit-depth",
                "16",
                "-r",
                "48000",
                "--sound",
                "beep",
                "-q",
            ],
            out,
        )
        sx_wall, sx_rss = median_run(sox_cmd(out, 21600), out)
        rows.append(
            (
                "render 3 h, 16-bit mono 48 kHz WAV",
                f"{ic_wall:.2f} s",
                f"{sx_wall:.2f} s",
                f"{ic_wall / sx_wall:.2f}",
                "<= 1.0",
            )
        )
        rows.append(("  peak RSS (ictus / sox)", f"{ic_rss} MB", f"{sx_rss} MB", "", "<= 150 MB"))

        # the goal: a 10-minute render within 2x sox, start-up included, each
        # ictus run paired with a sox run (the machine's speed drifts between pairs)
        ic10, sx10, ratio10 = paired_runs(
            [ICTUS, "render", str(ten_minutes), "-o", str(out), "--bit-depth", "16",
             "--sound", "beep", "-q"],
            sox_cmd(out, 1200),
            out,
            PAIRS,
        )  # fmt: skip
        met = "met" if ratio10 <= 2.0 else "NOT met"
        rows.append(
            (
                "render 10 min, start-up included",
                f"{ic10:.3f} s",
                f"{sx10:.3f} s",
                f"{ratio10:.2f}",
                f"<= 2.0 ({met})",
            )
        )
        goals.append(f"10-minute render within 2x sox: {met} ({ratio10:.2f}x, median of pairs)")

        one_bar = tmp / "1bar.click"
        one_bar.write_text("1 4/4 120\n")  # 2 s: what is left is the fixed cost
        ic1, _ = median_run(
            [ICTUS, "render", str(one_bar), "-o", str(out), "--bit-depth", "16", "-q"], out
        )
        sx1, _ = median_run(sox_cmd(out, 4), out)
        rows.append(
            ("render 2 s (the fixed cost)", f"{ic1:.3f} s", f"{sx1:.3f} s", f"{ic1 / sx1:.2f}", "")
        )

        start_py, _ = median_run([sys.executable, "-c", "pass"])
        for what, args, target in (
            ("start-up: ictus --version", ["--version"], "< 0.100 s"),
            ("start-up: ictus --help", ["--help"], ""),
        ):
            start_ic, _ = median_run([ICTUS, *args])
            if target:
                met = "met" if start_ic < 0.1 else "NOT met"
                target = f"{target} ({met})"
                goals.append(f"ictus --version under 0.1 s: {met} ({start_ic:.3f} s)")
            rows.append(
                (
                    f"{what} (peer: bare python)",
                    f"{start_ic:.3f} s",
                    f"{start_py:.3f} s",
                    f"{start_ic / start_py:.1f}",
                    target,
                )
            )

    gt, n = grid_time()
    rows.append((f"grid of {n:,} clicks (in process)", f"{gt:.3f} s", "", "", "< 0.5 s"))
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_film import film_rows

    rows.extend(film_rows())
    from bench_scaling import beats_rows, scaling_rows

    # the peer column holds the 100-section baseline; the ratio is per-section cost
    rows.extend(scaling_rows())
    rows.extend(beats_rows())
    from bench_osc import osc_rows

    rows.extend(osc_rows())

    table = Table(title="ictus benchmarks", title_justify="left")
    for col in ("what", "ictus", "peer (sox / python)", "ratio", "target"):
        table.add_column(col, justify="left" if col == "what" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for goal in goals:
        console.print(f"[bold]goal:[/] {goal}")

    # the live engine: callback cost per period and xruns in real time (JACK dummy driver)
    from bench_engine import main as engine_main

    engine_main()

    # the show's audio path: streamed stems and monitor mixes (bench_show.py)
    from bench_show import main as show_main

    show_main()

    # real time under load: the display, OSC and 50 web clients next to the callback,
    # ictus show run with its audio in process and in its own process, and peak RSS
    # against the stems' length (bench_load.py)
    from bench_load import main as load_main

    load_main(rss=True)


if __name__ == "__main__":
    main()

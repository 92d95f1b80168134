"""The show's audio path in real time: 8 stereo stems streaming, 16 output channels.

One song of a show (8 stereo 48 kHz stems read ahead from disk by their helper threads,
three click variants, the spoken track) is played block by block at 128 frames, paced
at real time, through the show's sources and the one routing function
(:meth:`ictus.render.Router.route`) into 16 channels (8 stereo outputs, one of them
``main``). Measured: the cost of each block (median, 99.9th percentile, as a share of
the 2.67 ms period; target p99.9 < 20 %), underruns (blocks a stem's ring could not
fill: the read-ahead starving), and the peak RSS growth while playing against the
read-ahead bound (ring frames x channels x 4 bytes per stem). This is the show's share
of an engine callback; the engine's own cost is bench_engine's, and the whole show
callback under load (in process against its own process) is bench_load's ``show:``
conditions.

Run alone: ``python bench/bench_show.py`` (``ICTUS_BENCH_SECONDS``, default 30).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

RATE = 48000
PERIOD = 128
STEMS = 8
TARGET = 0.20


def _kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))


def _write_show(folder: Path, seconds: float) -> Path:
    bars = int(seconds / 2) + 1
    (folder / "song.click").write_text(f"count-in: 1 bar\nverse: {bars} 4/4 120 sub=2\n")
    rng = np.random.default_rng(0)
    block = (rng.uniform(-0.1, 0.1, (RATE, 2))).astype(np.float32)
    stems = []
    for k in range(STEMS):
        with soundfile.SoundFile(folder / f"s{k}.wav", "w", RATE, 2, subtype="PCM_16") as f:
            for _ in range(bars * 2 + 2):
                f.write(block)
        stems.append(f's{k} = "s{k}.wav"')
    outputs = ["foh = { channels = [1, 2], main = true }"] + [
        f"m{k} = {{ channels = [{2 * k + 1}, {2 * k + 2}] }}" for k in range(1, 8)
    ]
    mixes = ["[mixes.foh]\nstems = 1.0"] + [
        f'[mixes.m{k}]\nclick = "{("drummer", "singer", "map")[k % 3]}"\ncues = 0.5\nstems = 0.4'
        for k in range(1, 8)
    ]
    text = "\n".join(
        [
            "sample_rate = 48000",
            "[speech]\ncount_in = false\nsections = false",
            "[outputs]",
            *outputs,
            '[clicks]\ndrummer = { sub = 4 }\nsinger = { levels = ["accent", "normal"] }',
            *mixes,
            '[songs.song]\nmap = "song.click"\n[songs.song.stems]',
            *stems,
        ]
    )
    path = folder / "show.toml"
    path.write_text(text + "\n")
    return path


def measure(seconds: float, ring_frames: int | None = None) -> dict[str, float]:
    from ictus.render import FLOAT, Router
    from ictus.show import check_show, load_show, plan_song

    with tempfile.TemporaryDirectory() as tmp:
        show = load_show(_write_show(Path(tmp), seconds))
        check_show(show)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak RSS to now
        before = _kib("VmHWM:")
        plan = plan_song(show, "song", ring_frames=ring_frames)
        try:
            router = Router(plan.routing, FLOAT, max_frames=PERIOD)
            for source in plan.sources:
                source.blocks(0, PERIOD)  # scratch buffers made before playing
            for stem in plan.stems:
                stem.seek(0)
                stem.wait_ready(0, min(stem.ring_frames, stem.length + 1) - 1, timeout=60)
            out = np.zeros((PERIOD, show.channels), np.float32)
            blocks = int(seconds * RATE / PERIOD)
            costs = np.zeros(blocks)
            start = time.perf_counter()
            for b in range(blocks):
                deadline = start + b * PERIOD / RATE
                pause = deadline - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                t0 = time.perf_counter()
                router.route(plan.blocks(b * PERIOD, PERIOD), out)
                costs[b] = time.perf_counter() - t0
            underruns = sum(stem.underruns for stem in plan.stems)
            ring_mb = sum(s.slots * s.channels * 4 for s in plan.stems) / 2**20
        finally:
            plan.close()
        growth_mb = (_kib("VmHWM:") - before) / 1024
    period = PERIOD / RATE
    return {
        "median_us": float(np.median(costs)) * 1e6,
        "p999_us": float(np.percentile(costs, 99.9)) * 1e6,
        "max_us": float(costs.max()) * 1e6,
        "p999_share": float(np.percentile(costs, 99.9)) / period,
        "underruns": float(underruns),
        "blocks": float(blocks),
        "ring_mb": ring_mb,
        "rss_growth_mb": growth_mb,
    }


def main() -> None:
    seconds = float(os.environ.get("ICTUS_BENCH_SECONDS", "30"))
    print(
        f"show audio path, {STEMS} stereo stems -> 16 channels, {PERIOD} frames at {RATE} Hz, "
        f"{seconds:g} s in real time, target p99.9 < {100 * TARGET:.0f} % of the period:"
    )
    runs = (
        ("stems streamed (read-ahead threads)", None),
        # the diagnosis: the same blocks with every stem already in its ring, no reading
        ("stems wholly in memory (no reading)", int((seconds + 8) * RATE)),
    )
    for name, ring in runs:
        r = measure(seconds, ring)
        print(
            f"  {name}: median {r['median_us']:.0f} us, p99.9 {r['p999_us']:.0f} us "
            f"({100 * r['p999_share']:.1f} %), max {r['max_us']:.0f} us; "
            f"underruns {int(r['underruns'])}; peak RSS +{r['rss_growth_mb']:.1f} MB "
            f"(rings {r['ring_mb']:.1f} MB)"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()

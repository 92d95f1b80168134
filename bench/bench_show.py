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

Also measured: the CPU time of the show's whole engine block (the stage, the song's
engine and transport, its sources and routing: what the JACK callback runs besides the
port copies), pulled from a null backend as fast as it goes, for the mixing as it is
and as it was before the show played a song as one source (one engine route per row
and gain, each copied to a scratch and mixed again, and a router summing column by
column: kept below, for this comparison only), in alternating stretches of the same
run so that both see the same load.

Run alone: ``python bench/bench_show.py`` (``ICTUS_BENCH_SECONDS``, default 30).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

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


# -- the block as it was, for the before/after figures only ------------------------------


def _before_router() -> type:
    """The router as it was: each distinct column summed term by term (its own way for
    small routings, forced here)."""
    from ictus.render import Router

    class Before(Router):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._steps = None

    return Before


def _before_routes(plan: Any) -> list[Any]:
    """The engine routes as they were: one per routing row and distinct gain."""
    from ictus.engine import AudioSource, Route

    class Shared:
        def __init__(self, source: Any, bar1: int) -> None:
            self.source, self.bar1, self.at, self.got = source, bar1, (-1, -1), []

        def get(self, p: Any, frame: int, n: int) -> Any:
            at = frame - p.origin + self.bar1
            if (at, n) != self.at:
                self.got, self.at = self.source.blocks(at, n), (at, n)
            return self.got

    class Row(AudioSource):
        def __init__(self, shared: Shared, index: int, channels: int, until: int) -> None:
            self.shared, self.index, self.channels = shared, index, channels
            self.sounds_until = until

        def render(self, p: Any, frame: int, out: Any) -> bool:
            buf, spans = self.shared.get(p, frame, out.shape[0])[self.index]
            if not spans:
                return False
            out.fill(0.0)
            for a, b in spans:
                out[a:b] = buf[a:b, np.newaxis]
            return True

    routes, gains, row = [], plan.routing.gains, 0
    until = plan.length - plan.bar1_frame
    for source in plan.sources:
        shared = Shared(source, plan.bar1_frame)
        for k in range(source.channels):
            by_gain: dict[float, list[int]] = {}
            for ch in np.flatnonzero(gains[row]):
                by_gain.setdefault(float(gains[row, ch]), []).append(int(ch))
            for gain, channels in by_gain.items():
                routes.append(Route(Row(shared, k, len(channels), until), tuple(channels), gain))
            row += 1
    return routes


def measure_blocks(seconds: float, stretch: int = 250) -> dict[str, dict[str, float]]:
    """CPU time (``time.thread_time_ns``) of the show's engine block, now and before."""
    import ictus.engine.sources
    import ictus.show.runner
    from ictus.engine.backends.null import NullBackend
    from ictus.show import load_show
    from ictus.show.runner import ShowRunner

    blocks = int(seconds * RATE / PERIOD)
    with tempfile.TemporaryDirectory() as tmp:
        show = load_show(_write_show(Path(tmp), seconds + 10))
        ring = int((seconds + 20) * RATE)  # whole stems in their rings: no reading
        runners: dict[str, tuple[Any, Any]] = {}
        for name in ("now", "before"):
            backend = NullBackend(rate=RATE, period=PERIOD)
            routes, router = ictus.show.runner.song_routes, ictus.engine.sources.Router
            if name == "before":
                ictus.show.runner.song_routes = _before_routes  # type: ignore[assignment]
                ictus.engine.sources.Router = _before_router()  # type: ignore[misc]
            try:
                runner = ShowRunner(show, backend, read_ahead=ring).open()
            finally:
                ictus.show.runner.song_routes = routes  # type: ignore[assignment]
                ictus.engine.sources.Router = router  # type: ignore[misc]
            runner.loaded(0)
            runner.go()
            for _ in range(20):
                backend.pull()
            runners[name] = (runner, backend)
        costs = {name: np.zeros(blocks, np.int64) for name in runners}
        sums = {name: np.zeros(blocks, np.int64) for name in runners}  # each block's CRC
        clock = time.thread_time_ns
        try:
            for first in range(0, blocks, stretch):
                for name, (_, backend) in runners.items():
                    row, crc = costs[name], sums[name]
                    for b in range(first, min(first + stretch, blocks)):
                        t0 = clock()
                        out = backend.pull()
                        row[b] = clock() - t0
                        crc[b] = zlib.crc32(out.tobytes())
            same = np.array_equal(sums["now"], sums["before"])
        finally:
            for runner, _ in runners.values():
                runner.close()
    period_ns = PERIOD / RATE * 1e9
    return {
        name: {
            "median_us": float(np.median(c)) / 1e3,
            "p999_us": float(np.percentile(c, 99.9)) / 1e3,
            "median_share": float(np.median(c)) / period_ns,
            "p999_share": float(np.percentile(c, 99.9)) / period_ns,
            "blocks": float(blocks),
            "same_samples": float(same),
        }
        for name, c in costs.items()
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
    blocks = measure_blocks(min(seconds, 20.0))
    for name, r in blocks.items():
        print(
            f"  engine block CPU time, mixing {name}: median {r['median_us']:.0f} us "
            f"({100 * r['median_share']:.1f} %), p99.9 {r['p999_us']:.0f} us "
            f"({100 * r['p999_share']:.1f} %) over {int(r['blocks'])} blocks"
        )
    print(
        f"  now / before: median {blocks['now']['median_us'] / blocks['before']['median_us']:.2f}"
        f", p99.9 {blocks['now']['p999_us'] / blocks['before']['p999_us']:.2f}; every block "
        f"{'bit-identical' if blocks['now']['same_samples'] else 'DIFFERENT'}"
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

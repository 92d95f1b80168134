"""Real time under load: does the GIL let the frontends delay the audio callback?

One ictus process plays a 2-hour map through a private JACK server (dummy driver,
48 kHz, 128 frames) on 16 outputs, with 8 stereo stems streamed from disk
(:class:`ictus.show.StemStream`, read-ahead threads) mixed in through the engine's
source hook (:class:`ictus.engine.Route`). It runs three ways in the same run:

- ``idle``: the engine and its stems, nothing else;
- ``inside``: the same, WHILE in the same process the terminal display renders to a pty
  at its normal 20 frames a second, :class:`ictus.remote.OscRemote` answers ~200
  ``/ictus/status`` messages a second from a client process and sends every beat to a
  subscriber, and :class:`ictus.web.server.WebRemote` serves 50 WebSocket clients (a
  process of aiohttp clients) -- the show process as it would run on stage;
- ``outside``: the engine process as in ``idle``, while the very same frontends and
  clients run in a process of their own (on a paced null engine): the same work for
  the machine's two cores, but no interpreter lock shared with the callback.

``inside`` against ``outside`` is the GIL's share; ``outside`` against ``idle`` is the
machine's (CPU contention). Then ``ictus show run`` itself (:func:`run_show`: the show
of bench_show.py, its display, OSC and the web remote with 50 pages): ``show:inside``
(the OSC peer asks the setlist's status too, ``/ictus/show/status``, as often)
with the audio in the frontends' process (``--in-process``), ``show:process`` with it
in its own (:class:`ictus.show.process.ShowProcess`, the default, on a CPU of its own;
``show:shared`` with both processes on every CPU), ``show:alone`` with
no frontends (the show callback's floor). For every cycle the callback records, with JACK's clock:

- *entry delay*: from the cycle's start to the first line of our Python callback (the
  thread waking, plus cffi taking the GIL for it);
- *callback wall* and *callback CPU*: ictus's own callback (transport, stems, mixing,
  port copies), wall-clock and the thread's CPU time; wall minus CPU is time the
  callback spent waiting inside (for the GIL after a C call, or pre-empted);
- *finish*: entry delay + callback wall: when the server gets our buffers.

Also: xruns (and whom jackd blamed), read-ahead underruns, the engine process's peak
RSS. With ``--rss`` (or from :func:`rss_rows`): peak RSS for a 2-minute and a
20-minute stem set, to show it is bounded by the read-ahead rings, not the stems'
length.

Run alone: ``python bench/bench_load.py`` (``ICTUS_BENCH_SECONDS`` per condition,
default 60; ``--rss`` adds the RSS comparison); ``bench/bench.py`` calls :func:`main`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

RATE = 48000
PERIOD = 128
CHANNELS = 16
STEMS = 8
CLICK_ON = (14, 15)
MAP = "title: Load\nsong: 3600 4/4 120\n"  # 2 hours
TARGET = 0.20
OSC_RATE = 200.0
WEB_CLIENTS = 50
HERE = Path(__file__).resolve()


def _seconds() -> float:
    return float(os.environ.get("ICTUS_BENCH_SECONDS", "60"))


def _jackserver() -> Any:
    """The test suite's private-JACK-server helper (tests/jackserver.py)."""
    path = HERE.parents[1] / "tests" / "jackserver.py"
    spec = importlib.util.spec_from_file_location("ictus_bench_jackserver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def machine() -> dict[str, Any]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load": os.getloadavg(),
    }


def _kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))


# ------------------------------------------------------------------------ stems


def write_stems(folder: Path, seconds: float) -> list[Path]:
    """8 stereo 16-bit 48 kHz WAV files of ``seconds``: noise, a different tone each."""
    import numpy as np
    import soundfile

    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    paths = []
    for k in range(STEMS):
        tone = 0.2 * np.sin(2 * np.pi * (110 * (k + 1)) * t)
        block = (tone[:, None] + rng.uniform(-0.05, 0.05, (RATE, 2))).astype(np.float32)
        path = folder / f"stem{k}.wav"
        with soundfile.SoundFile(path, "w", RATE, 2, subtype="PCM_16") as f:
            for _ in range(int(seconds)):
                f.write(block)
        paths.append(path)
    return paths


def _stem_routes(paths: list[Path]) -> tuple[list[Any], list[Any]]:
    """The stems as engine sources: stem k on outputs 2k and 2k + 1."""
    from ictus.engine import AudioSource, Route
    from ictus.engine.plan import MAX_PERIOD
    from ictus.show import StemStream

    class StemSource(AudioSource):
        """A streamed stem placed at the map's bar 1 (the show runner's job, done
        here the simplest way: stream frame = map frame)."""

        def __init__(self, stream: StemStream) -> None:
            self.stream = stream
            self.channels = stream.channels

        def prepare(self, plan: Any) -> None:
            self.stream.prepare(MAX_PERIOD)

        def render(self, plan: Any, frame: int, out: Any) -> bool:
            return self.stream.fill(frame - plan.origin, out)

    streams = [StemStream(p, RATE) for p in paths]
    routes = [Route(StemSource(s), (2 * k, 2 * k + 1), 0.3) for k, s in enumerate(streams)]
    return streams, routes


# ------------------------------------------------------------------------ the ictus process


def _thread_cpu() -> dict[str, list[float]]:
    """CPU seconds and wake-ups (voluntary switches) of each thread of this process so
    far, summed by its Python name."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, list[float]] = {}
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            wakes = next(
                int(line.split()[1])
                for line in (task / "status").read_text().splitlines()
                if line.startswith("voluntary_ctxt_switches")
            )
            name = names.get(int(task.name), f"native-{task.name}")
            name = name.split(" ")[0].rstrip("0123456789-")  # Thread-3 (_reader) -> Thread
            row = found.setdefault(name, [0.0, 0.0])
            row[0] += (int(fields[11]) + int(fields[12])) / tick
            row[1] += wakes
    return found


def _measured_backend(server: str, cycles: int, out: str | None = None) -> Any:
    """The JACK backend with a callback that records, per cycle, the entry delay
    (frames since the cycle started, JACK's clock), the callback's wall and CPU ns.

    With ``out`` (the show modes) it records every cycle from the start into rings of
    ``cycles``, with the cycle's :func:`time.monotonic_ns` (one clock for every
    process: the process that asks picks its window), and at ``close`` saves them,
    the xruns and its process's peak RSS to ``out`` (``.npz``): the backend may live
    in the show's audio process, out of the bench's reach."""
    import jack
    import numpy as np

    from ictus.engine.backends.jack import JackBackend, _frame_time

    class Measured(JackBackend):
        def __init__(self) -> None:
            super().__init__(client_name="ictus-load", connect="none", server=server)
            self.entry = np.zeros(cycles, np.int64)
            self.wall = np.zeros(cycles, np.int64)
            self.cpu = np.zeros(cycles, np.int64)
            self.when = np.zeros(cycles, np.int64)
            self.gc = np.zeros(cycles, np.int64)  # ns of garbage collection in the cycle
            self.kept = 0
            self.armed = out is not None
            self.collections: list[tuple[int, int, int]] = []  # (gen, ns, in callback)

        def close(self) -> None:
            super().close()
            if out is not None and not Path(out).exists():
                np.savez(
                    out, entry=self.entry, wall=self.wall, cpu=self.cpu, when=self.when,
                    kept=self.kept, xruns=self.xruns, peak_kib=_kib("VmHWM:"),
                    gc=self.gc, collections=np.array(self.collections, np.int64).reshape(-1, 3),
                )

        def _open_client(self) -> None:
            super()._open_client()
            client = self._client
            frame_time = _frame_time(client)
            since, ptr = jack._lib.jack_frames_since_cycle_start, client._ptr
            wall_ns, cpu_ns = time.perf_counter_ns, time.thread_time_ns
            entry, wall, cpu, when = self.entry, self.wall, self.cpu, self.when
            ring = out is not None
            gc_ns = [0, 0, 0]  # [callback thread ident, start, total this cycle]
            collections = self.collections

            def on_gc(phase: str, info: dict[str, int]) -> None:
                now = wall_ns()
                if phase == "start":
                    gc_ns[1] = now
                    return
                took = now - gc_ns[1]
                mine = threading.get_ident() == gc_ns[0]
                if mine:
                    gc_ns[2] += took
                collections.append((info["generation"], took, int(mine)))

            gc.callbacks.append(on_gc)

            def on_process(frames: int) -> None:
                late = since(ptr)
                c0 = cpu_ns()
                w0 = wall_ns()
                gc_ns[0] = threading.get_ident()
                gc_ns[2] = 0
                self._on_process(frames, frame_time())
                w1 = wall_ns()
                c1 = cpu_ns()
                k = self.kept
                if self.armed and (ring or k < cycles):
                    i = k % cycles
                    entry[i] = late
                    wall[i] = w1 - w0
                    cpu[i] = c1 - c0
                    when[i] = w0
                    self.gc[i] = gc_ns[2]
                    self.kept = k + 1

            client.set_process_callback(on_process)

    return Measured()


def _any_cpu() -> None:
    """A client process may run on every CPU, whichever its starter keeps to: the show
    process keeps its frontends off the audio's CPU (:func:`ictus.engine.rt.cpu_split`),
    but the terminal, the OSC peer and the 50 pages stand for other machines, and here
    they share both cores with the show, the audio's too."""
    os.sched_setaffinity(0, range(os.cpu_count() or 1))


class Frontends:
    """The display (to a pty), the OSC server and the web server of ``engine``, with
    their client processes: everything a show process serves while it plays."""

    def __init__(
        self, engine: Any, *, screen: Any = None, show: Any = None
    ) -> None:
        """``screen``: what the display draws (default: the engine's status); ``show``:
        a running show for the web remote (its songs' engines, its setlist)."""
        from rich.console import Console
        from rich.live import Live

        from ictus.cli.display import render_status
        from ictus.remote import OscRemote
        from ictus.web.server import WebRemote

        if screen is None:
            screen = lambda: render_status(engine.status(), "", ())  # noqa: E731

        self.procs: dict[str, subprocess.Popen[str]] = {}
        # the display: a pty read by a cat, as a terminal would
        master, slave = os.openpty()
        self.procs["terminal"] = subprocess.Popen(
            ["cat"],
            stdin=master,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_any_cpu,
        )
        os.close(master)
        self._tty = os.fdopen(slave, "w")
        console = Console(file=self._tty, force_terminal=True, width=100, height=30)
        self.live = Live(
            get_renderable=screen,
            console=console,
            refresh_per_second=20.0,
            transient=False,
            # the display's own Live takes over stdout; here it carries results
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.live.start()
        # OSC: the client/subscriber process first (the server sends to it)
        osc = self._helper("osc")
        assert osc.stdout is not None
        sub_port = int(osc.stdout.readline())
        self.osc = OscRemote(engine, port=0, send_to=[("127.0.0.1", sub_port)]).open()
        # a show answers its setlist's status too (ictus show run --osc), as often
        self.setlist = None
        ports = f"{self.osc.address[1]}"
        if show is not None:
            from ictus.remote.setlist import SetlistRemote

            self.setlist = SetlistRemote(show, port=0).open()
            ports += f" {self.setlist.address[1]}"
        assert osc.stdin is not None
        osc.stdin.write(f"{ports}\n")
        osc.stdin.flush()
        # the web server and its 50 pages
        self.web = WebRemote(None if show else engine, "127.0.0.1", 0, show=show).start()
        self._helper("crowd", f"ws://127.0.0.1:{self.web.port}/ws")
        deadline = time.monotonic() + 60
        while self.web.stats.clients < WEB_CLIENTS:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.web.stats.clients} web clients connected")
            time.sleep(0.1)
        time.sleep(1.0)  # the OSC traffic under way

    def _helper(self, role: str, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(HERE), role, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_any_cpu,
        )
        self.procs[role] = proc
        return proc

    def close(self) -> dict[str, Any]:
        """Stop everything; what the client processes counted."""
        counts: dict[str, Any] = {"web_clients": self.web.stats.clients}
        for role in ("osc", "crowd"):
            proc = self.procs[role]
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            counts[role] = json.loads(out.strip().splitlines()[-1])
        self.live.stop()
        self.web.stop()
        self.osc.close()
        if self.setlist is not None:
            self.setlist.close()
        self._tty.close()
        self.procs["terminal"].wait(5)
        return counts


class StatusFeed:
    """The engine side of frontends in another process: a thread that sends the
    engine's status 250 times a second (what the display's 20 frames and OSC's 200
    status replies a second need) and every event, pickled, down a pipe to a reader
    process. Its cost in the engine process is what splitting the frontends off costs
    the callback."""

    RATE = 250.0

    def __init__(self, engine: Any) -> None:
        import pickle
        import struct

        read, self._write = os.pipe()
        self._reader = subprocess.Popen(["cat"], stdin=read, stdout=subprocess.DEVNULL)
        os.close(read)
        self._lock = threading.Lock()
        self.counts = {"statuses": 0, "events": 0}
        self._stop = threading.Event()

        def send(obj: Any) -> None:
            data = pickle.dumps(obj)
            with self._lock:
                os.write(self._write, struct.pack("<I", len(data)) + data)

        def on_event(event: Any) -> None:
            send(event)
            self.counts["events"] += 1

        def loop() -> None:
            due = time.monotonic()
            while not self._stop.is_set():
                send(engine.status())
                self.counts["statuses"] += 1
                due += 1 / self.RATE
                self._stop.wait(max(due - time.monotonic(), 0))

        self._unlisten = engine.add_listener(on_event)
        # created after engine.open(): SCHED_FIFO 1 like the frontends' threads
        self._thread = threading.Thread(target=loop, name="status-feed", daemon=True)
        self._thread.start()

    def close(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(5)
        self._unlisten()
        os.close(self._write)
        self._reader.wait(5)
        return {"feed": self.counts}


def run_engine(args: list[str]) -> dict[str, Any]:
    """``engine SERVER STEM_DIR SECONDS MODE``: play, measure, return the figures.

    MODE: ``idle`` or ``inside`` (the frontends in this process), optionally followed
    by ``:SWITCH`` (``sys.setswitchinterval`` in seconds, set after the engine's own)
    and ``:other`` (the frontends' threads at normal priority, not SCHED_FIFO 1).
    """

    from ictus.engine import Engine
    from ictus.formats import parse_click

    server, stem_dir, seconds_text, mode = args
    seconds = float(seconds_text)
    label = mode
    mode, *options = mode.split(":")
    switch = next((o for o in options if o[:1].isdigit()), "")
    ordinary = "other" in options
    feed = "feed" in options
    paths = sorted(Path(stem_dir).glob("stem*.wav"))
    streams, routes = _stem_routes(paths)
    cycles = int(seconds * RATE / PERIOD) + 2000
    backend = _measured_backend(server, cycles)
    engine = Engine(parse_click(MAP), backend, channels=CHANNELS, click_on=CLICK_ON, sources=routes)
    for s in streams:
        s.seek(0)
        s.wait_ready(0, s.ring_frames - 1, timeout=60)
    engine.open()
    if switch:
        sys.setswitchinterval(float(switch))
    if ordinary:
        # the frontends' threads inherit this thread's policy; the web thread raises
        # its own through the engine's helper, made a no-op here
        import ictus.engine.rt

        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        ictus.engine.rt.gil_holder_priority = lambda: False
    frontends = Frontends(engine) if mode == "inside" else None
    feeder = StatusFeed(engine) if feed else None
    rss_ready = _kib("VmRSS:")
    load_before = os.getloadavg()
    try:
        xruns0 = backend.xruns
        backend.armed = True
        engine.start()
        time.sleep(seconds)
        backend.armed = False
        xruns = backend.xruns - xruns0
        counts = frontends.close() if frontends is not None else {}
        if feeder is not None:
            counts = feeder.close()
    finally:
        engine.close()
        for s in streams:
            s.close()
    n = backend.kept
    figures: dict[str, Any] = {
        "mode": label,
        "seconds": seconds,
        "cycles": n,
        "xruns": xruns,
        "underruns": sum(s.underruns for s in streams),
        "rss_ready_mb": rss_ready / 1024,
        "peak_rss_mb": _kib("VmHWM:") / 1024,
        "ring_mb": sum(s.slots * s.channels * 4 for s in streams) / 2**20,
        "load": [load_before, os.getloadavg()],
        "switchinterval": sys.getswitchinterval(),
        "counts": counts,
    }
    figures.update(_cycle_figures(backend.entry[:n], backend.wall[:n], backend.cpu[:n]))
    return figures


def _cycle_figures(entry: Any, wall: Any, cpu: Any) -> dict[str, Any]:
    """Median, p99, p99.9 and max (µs) of each measure of the cycles recorded: entry
    delay (frames), callback wall and CPU time (ns), and what follows from them."""
    import numpy as np

    entry_us = entry * 1e6 / RATE
    wall_us = wall / 1000.0
    cpu_us = cpu / 1000.0
    figures: dict[str, Any] = {}
    for name, us in (
        ("entry", entry_us),
        ("wall", wall_us),
        ("cpu", cpu_us),
        ("waiting", wall_us - cpu_us),
        ("finish", entry_us + wall_us),
    ):
        figures[name] = {
            "median": float(np.median(us)),
            "p99": float(np.percentile(us, 99)),
            "p999": float(np.percentile(us, 99.9)),
            "max": float(us.max()),
        }
    # how many callbacks missed the target (a steadier measure than the 0.1 % tail)
    figures["over_target"] = int((wall_us > TARGET * PERIOD * 1e6 / RATE).sum())
    # the slowest 0.1 %: how much of each was waiting (wall - CPU) rather than working
    slow = wall_us >= np.percentile(wall_us, 99.9)
    figures["slowest_waiting_share"] = float((wall_us - cpu_us)[slow].sum() / wall_us[slow].sum())
    return figures


class MeasuredAudio:
    """The show's audio (an :class:`ictus.show.process.AudioRecipe`): the measured
    JACK backend, made in whichever process plays the show; its cycles are saved to
    ``out`` when it closes."""

    def __init__(self, server: str, cycles: int, out: str) -> None:
        self.server, self.cycles, self.out = server, cycles, out

    def make(self) -> tuple[Any, None]:
        return _measured_backend(self.server, self.cycles, self.out), None

    def connect_midi(self, midi: Any) -> None:
        pass


def run_show(args: list[str]) -> dict[str, Any]:
    """``show SERVER SHOW_DIR SECONDS MODE``: ``ictus show run`` as it runs on stage,
    measured. The show of bench_show.py (8 stereo stems, 16 outputs, three click
    variants) plays with the display (the show's own, on a pty), OSC (status replies
    and beats from the song's engine) and the web remote with 50 pages, all in this
    process; MODE ``show:inside`` plays the audio here too (``--in-process``),
    ``show:process`` in the show's audio process (:class:`ictus.show.process.
    ShowProcess`, the default: on a CPU of its own, the frontends off it),
    ``show:shared`` the same sharing every CPU (``--audio-cpu off``), ``show:alone``
    with no frontends at all (the floor).
    ``~SECONDS`` after the mode sets :data:`ictus.show.process.FRESH`. Only the cycles
    while the song plays count."""
    import bench_load as me  # by its module name: the audio process unpickles it
    import numpy as np
    from bench_show import _write_show

    import ictus.show.process
    from ictus.cli.show import render_show
    from ictus.show import load_show
    from ictus.show.process import ShowProcess
    from ictus.show.runner import ShowRunner

    server, show_dir, seconds_text, mode = args
    seconds = float(seconds_text)
    label = mode
    mode, _, fresh = mode.partition("~")
    if fresh:  # how old a status snapshot may be before the audio process is asked
        ictus.show.process.FRESH = float(fresh)
    folder = Path(show_dir)
    if not (folder / "show.toml").exists():
        _write_show(folder, seconds + 20)
    show = load_show(folder / "show.toml")
    out = folder / f"cycles-{label.replace(':', '-')}.npz"
    out.unlink(missing_ok=True)
    audio = me.MeasuredAudio(server, int((seconds + 120) * RATE / PERIOD), str(out))
    ring = round(2.7 * RATE)  # ictus show run's --read-ahead
    runner: Any
    if mode in ("show:inside", "show:alone"):
        backend, _ = audio.make()
        runner = ShowRunner(show, backend, read_ahead=ring).open()
    else:
        # show:shared: the audio's process and the frontends' share every CPU (the
        # default before --audio-cpu)
        runner = ShowProcess(show, audio, read_ahead=ring, pin=mode != "show:shared").open()
    try:
        cued = runner.loaded(0)
        frontends = None
        if mode != "show:alone":
            frontends = Frontends(
                cued.engine, screen=lambda: render_show(runner.status()), show=runner
            )
        load_before = os.getloadavg()
        runner.go()
        start = time.monotonic_ns()
        threads_before = _thread_cpu()
        time.sleep(seconds)
        threads_after = _thread_cpu()
        end = time.monotonic_ns()
        counts = frontends.close() if frontends is not None else {}
        underruns = runner.status().underruns
    finally:
        runner.close()
    cycles = np.load(out)
    n = min(int(cycles["kept"]), len(cycles["when"]))
    when = cycles["when"][:n]
    pick = (when >= start) & (when < end)
    figures: dict[str, Any] = {
        "mode": label,
        "seconds": seconds,
        "cycles": int(pick.sum()),
        "xruns": int(cycles["xruns"]),
        "underruns": underruns,
        "peak_rss_mb": int(cycles["peak_kib"]) / 1024,  # the audio's process
        "load": [load_before, os.getloadavg()],
        "counts": counts,
    }
    figures.update(
        _cycle_figures(cycles["entry"][:n][pick], cycles["wall"][:n][pick], cycles["cpu"][:n][pick])
    )
    if "gc" in cycles:  # where the garbage collector ran, and who used the CPU
        gc_us = cycles["gc"][:n][pick] / 1000.0
        wall_us = cycles["wall"][:n][pick] / 1000.0
        slow = wall_us >= np.percentile(wall_us, 99.9)
        coll = cycles["collections"]
        figures["gc"] = {
            "cycles_with_gc": int((gc_us > 0).sum()),
            "gc_us_p999": float(np.percentile(gc_us, 99.9)),
            "slowest_with_gc": int((gc_us[slow] > 0).sum()),
            "slowest": int(slow.sum()),
            "collections_by_gen": [int((coll[:, 0] == g).sum()) for g in range(3)],
            "in_callback_by_gen": [
                int(((coll[:, 0] == g) & (coll[:, 2] == 1)).sum()) for g in range(3)
            ],
            "max_us_by_gen": [
                float(coll[coll[:, 0] == g, 1].max() / 1000) if (coll[:, 0] == g).any() else 0.0
                for g in range(3)
            ],
        }
        if mode == "show:alone":  # this process's threads, while the song played
            figures["thread_cpu"] = {
                k: [round(v[0] - threads_before.get(k, [0, 0])[0], 2),
                    int(v[1] - threads_before.get(k, [0, 0])[1])]
                for k, v in threads_after.items()
            }
    return figures


def run_frontends_only(args: list[str]) -> None:
    """``frontends SECONDS``: the frontends and their clients on a paced null engine
    (same map), in a process of their own, until SIGTERM."""
    from ictus.engine import Engine
    from ictus.engine.backends.null import NullBackend
    from ictus.formats import parse_click

    backend = NullBackend(rate=RATE, period=PERIOD, driver="paced")
    backend.realtime = True  # type: ignore[misc]  # the same habits as on JACK
    engine = Engine(parse_click(MAP), backend, channels=2).open()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    frontends = Frontends(engine)
    engine.start()
    print("ready", flush=True)
    stop.wait()
    counts = frontends.close()
    engine.close()
    print(json.dumps(counts), flush=True)


# ------------------------------------------------------------------------ client processes


def run_osc_client() -> None:
    """``osc``: print a subscriber port, read the server's port (and a show's setlist
    port), then send ``/ictus/status`` (and ``/ictus/show/status``) 200 times a second
    and count replies and beats until SIGTERM."""
    import selectors
    import socket

    from pythonosc.osc_message import OscMessage
    from pythonosc.osc_message_builder import build_msg

    sub = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sub.bind(("127.0.0.1", 0))
    print(sub.getsockname()[1], flush=True)
    port, *setlist = (int(p) for p in sys.stdin.readline().split())
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.setblocking(False)
    sub.setblocking(False)
    status = build_msg("/ictus/status", []).dgram
    show_status = build_msg("/ictus/show/status", []).dgram
    counts = {"sent": 0, "replies": 0, "beats": 0, "other_events": 0}
    if setlist:
        counts |= {"show_sent": 0, "show_replies": 0}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ)
    sel.register(sub, selectors.EVENT_READ)
    step = 1.0 / OSC_RATE
    due = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= due:
            client.sendto(status, ("127.0.0.1", port))
            counts["sent"] += 1
            if setlist:
                client.sendto(show_status, ("127.0.0.1", setlist[0]))
                counts["show_sent"] += 1
            due += step
        for key, _ in sel.select(max(due - time.monotonic(), 0)):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            while True:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    break
                if sock is client and setlist and OscMessage(data).address.startswith(
                    "/ictus/show/"
                ):
                    counts["show_replies"] += 1
                elif sock is client:
                    counts["replies"] += 1
                elif OscMessage(data).address == "/ictus/beat":
                    counts["beats"] += 1
                else:
                    counts["other_events"] += 1
    print(json.dumps(counts), flush=True)


def run_crowd(args: list[str]) -> None:
    """``crowd URL``: 50 WebSocket clients counting beat messages until SIGTERM."""
    import asyncio

    import aiohttp

    url = args[0]

    async def one(session: Any, seen: list[int], stop: asyncio.Event) -> None:
        async with session.ws_connect(url) as ws:
            while not stop.is_set():
                try:
                    msg = await ws.receive(timeout=0.2)
                except TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                if json.loads(msg.data).get("type") == "beat":
                    seen[0] += 1

    async def main() -> list[int]:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        seen = [[0] for _ in range(WEB_CLIENTS)]
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(one(session, s, stop) for s in seen))
        return [s[0] for s in seen]

    beats = asyncio.run(main())
    print(json.dumps({"clients": len(beats), "min_beats": min(beats), "max_beats": max(beats)}))


# ------------------------------------------------------------------------ orchestration


def _engine_child(server: Any, stem_dir: Path, seconds: float, mode: str) -> dict[str, Any]:
    """Run the ictus process; its figures plus whom jackd blamed for xruns."""
    mark = server.log_mark()
    role = "show" if mode.startswith("show:") else "engine"
    proc = subprocess.run(
        [sys.executable, str(HERE), role, server.name, str(stem_dir), str(seconds), mode],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=seconds + 300,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"bench_load engine ({mode}) failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    time.sleep(0.1)
    late = server.late_clients(mark)
    figures["late_ictus"] = sum(n for name, n in late.items() if name.startswith("ictus-load"))
    figures["late_other"] = sum(late.values()) - figures["late_ictus"]
    return figures


#: What make bench runs: the engine alone, with the frontends in its process and in
#: another; then ``ictus show run`` with its frontends, the audio in process
#: (``--in-process``) and in its own process (the default). Also by name:
#: ``inside:0.0005`` (the engine's switch interval before the first measurement),
#: ``split`` (a status feed thread in the engine process).
MODES = (
    "idle", "inside", "outside", "show:alone", "show:inside", "show:shared", "show:process"
)


def conditions(seconds: float, modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    """Run each condition once against one private JACK server; figures by mode."""
    helper = _jackserver()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ictus-load-") as tmp:
        stem_dir = Path(tmp)
        write_stems(stem_dir, 180.0)
        show_dir = stem_dir / "show"  # the show's own stems, as long as its song
        show_dir.mkdir()
        server = helper.JackServer(rate=RATE, period=PERIOD).start(timeout=30)
        try:
            for mode in modes:
                where = show_dir if mode.startswith("show:") else stem_dir
                try:
                    results[mode] = _condition(server, where, seconds, mode)
                except (RuntimeError, subprocess.TimeoutExpired) as err:
                    # a busy machine can lose a run; the others still count
                    print(f"bench_load: {mode}: {err}", file=sys.stderr)
        finally:
            server.stop()
    return results


def _condition(server: Any, stem_dir: Path, seconds: float, mode: str) -> dict[str, Any]:
    """One condition's figures (``outside`` and ``split`` start the frontends' process)."""
    if mode.split(":")[0] not in ("outside", "split"):
        return _engine_child(server, stem_dir, seconds, mode)
    side = subprocess.Popen(
        [sys.executable, str(HERE), "frontends"], stdout=subprocess.PIPE, text=True
    )
    assert side.stdout is not None
    if side.stdout.readline().strip() != "ready":
        side.kill()
        raise RuntimeError("the frontends process did not start")
    try:
        # split: the engine process feeds the frontends' process its status
        engine_mode = mode.replace("split", "idle:feed").replace("outside", "idle")
        figures = _engine_child(server, stem_dir, seconds, engine_mode)
    finally:
        side.send_signal(signal.SIGTERM)
        out, _ = side.communicate(timeout=60)
    figures["mode"] = mode
    figures["counts"] = {**figures["counts"], **json.loads(out.strip().splitlines()[-1])}
    return figures


def rss_by_length(seconds: float, lengths: tuple[float, ...] = (120.0, 1200.0)) -> dict[float, Any]:
    """Peak RSS of the (idle) ictus process for stem sets of each length."""
    helper = _jackserver()
    results = {}
    server = helper.JackServer(rate=RATE, period=PERIOD).start(timeout=30)
    try:
        for length in lengths:
            with tempfile.TemporaryDirectory(prefix="ictus-rss-") as tmp:
                write_stems(Path(tmp), length)
                results[length] = _engine_child(server, Path(tmp), seconds, "idle")
    finally:
        server.stop()
    return results


def _pct(us: float) -> str:
    return f"{100 * us / (PERIOD / RATE * 1e6):.1f} %"


def _print_threads(console: Any, mode: str, r: dict[str, Any]) -> None:
    """The garbage collections of a show mode, and (``show:alone``) its threads."""
    if "gc" in r:
        console.print(f"  {mode}: garbage collections {json.dumps(r['gc'])}")
    if "thread_cpu" in r:
        cpu = sorted(r["thread_cpu"].items(), key=lambda kv: -kv[1][1])
        console.print(
            f"  {mode}: CPU s, wake-ups by thread while playing "
            + ", ".join(f"{k} {v[0]:.2f} {v[1]}" for k, v in cpu)
        )


def print_results(results: dict[str, Any], facts: dict[str, Any]) -> None:
    """One row per condition, then each condition's p99.9 against idle's."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 160))
    console.print(
        f"[bold]machine:[/] {facts['cpu']}, {facts['cores']} cores, kernel {facts['kernel']}, "
        f"Python {facts['python']}, load average {' '.join(f'{x:.2f}' for x in facts['load'])}"
    )
    period_us = PERIOD / RATE * 1e6
    table = Table(
        title=f"audio callback under load: {PERIOD} frames at {RATE} Hz (period "
        f"{period_us:.0f} µs), {CHANNELS} outputs, {STEMS} stereo stems streamed; "
        "µs (share of the period)",
        title_justify="left",
    )
    heads = (
        "condition",
        "wall median",
        "wall p99.9",
        "CPU p99.9",
        "waiting p99.9",
        "entry p99.9",
        "finish p99.9",
        "slowest: waiting",
        "xruns (ictus)",
        "underruns",
        "peak RSS",
        "load",
    )
    for col in heads:
        table.add_column(col, justify="left" if col == "condition" else "right")

    def us(v: float) -> str:
        return f"{v:.0f} ({100 * v / period_us:.0f}%)"

    for mode, r in results.items():
        table.add_row(
            mode,
            us(r["wall"]["median"]),
            us(r["wall"]["p999"]),
            us(r["cpu"]["p999"]),
            us(r["waiting"]["p999"]),
            us(r["entry"]["p999"]),
            us(r["finish"]["p999"]),
            f"{r['slowest_waiting_share']:.0%}",
            f"{r['xruns']} ({r['late_ictus']})",
            str(r["underruns"]),
            f"{r['peak_rss_mb']:.0f} MB",
            f"{r['load'][1][0]:.1f}",
        )
    idle = results.get("idle")
    if idle is not None:
        for mode, r in results.items():
            if mode == "idle":
                continue
            table.add_row(
                f"  {mode} / idle",
                f"{r['wall']['median'] / idle['wall']['median']:.2f}",
                *(
                    f"{r[k]['p999'] / idle[k]['p999']:.2f}"
                    for k in ("wall", "cpu", "waiting", "entry", "finish")
                ),
                "",
                f"{r['xruns'] / max(idle['xruns'], 1):.2f}",
                f"{r['underruns'] / max(idle['underruns'], 1):.2f}",
                f"{r['peak_rss_mb'] / idle['peak_rss_mb']:.2f}",
                "",
            )
    console.print(table)
    console.print(
        "wall/CPU: ictus's own callback (transport, stems, mixing, port copies), wall "
        "clock and its thread's CPU time; waiting = wall - CPU; entry: cycle start -> "
        "callback (thread wake-up + taking the GIL), JACK's clock (21 µs steps); finish "
        "= entry + wall; slowest: share of the slowest 0.1 % of callbacks spent waiting; "
        "xruns (those jackd blamed on ictus); underruns: blocks a stem's ring could not fill"
    )
    for mode, r in results.items():
        c = r.get("counts")
        if c:
            console.print(f"  {mode}: clients' counts {json.dumps(c)}")
        _print_threads(console, mode, r)
        console.print(
            f"  {mode}: {r['over_target']} of {r.get('cycles', '?')} callbacks over "
            f"{100 * TARGET:.0f} % of the period"
        )
    wall = results.get("inside", {}).get("wall", {}).get("p999")
    if wall is not None:
        ok = "meets" if wall / period_us < TARGET else "MISSES"
        console.print(
            f"ictus callback p99.9 with the frontends in process: {_pct(wall)} of the period: "
            f"{ok} the target (< {100 * TARGET:.0f} %)"
        )
    for mode, where in (
        ("show:inside", "in the frontends' process (--in-process)"),
        ("show:shared", "in its own process, sharing the CPUs (--audio-cpu off)"),
        ("show:process", "in its own process on its own CPU (the default)"),
    ):
        r = results.get(mode)
        if r is None:
            continue
        p999 = r["wall"]["p999"]
        ok = "meets" if p999 / period_us < TARGET else "MISSES"
        console.print(
            f"ictus show run, the audio {where}, with the display, OSC and 50 web pages: "
            f"callback median {_pct(r['wall']['median'])}, p99.9 {_pct(p999)} of the "
            f"period: {ok} the target (< {100 * TARGET:.0f} %)"
        )


def print_rss(results: dict[float, Any]) -> None:
    for length, r in results.items():
        print(
            f"  stems of {length / 60:.0f} min: peak RSS {r['peak_rss_mb']:.1f} MB "
            f"(ready to play {r['rss_ready_mb']:.1f} MB; read-ahead rings "
            f"{r['ring_mb']:.1f} MB), underruns {r['underruns']}"
        )


def main(rss: bool = False) -> dict[str, Any]:
    """Measure and print; returns the figures (for bench/bench.py)."""
    from shutil import which

    if which("jackd") is None:
        print("jackd is not installed: no load run (apt-get install jackd2)")
        return {}
    facts = machine()
    seconds = _seconds()
    results = conditions(seconds)
    facts["load"] = os.getloadavg()
    print_results(results, facts)
    out: dict[str, Any] = {"machine": facts, "conditions": results}
    if rss:
        by_length = rss_by_length(min(seconds, 30.0))
        print(f"peak RSS by stem length ({STEMS} stereo stems, {min(seconds, 30.0):g} s each):")
        print_rss(by_length)
        out["rss"] = by_length
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1] / "src"))
    role, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if role == "engine":
        print(json.dumps(run_engine(rest)), flush=True)
    elif role == "show":
        print(json.dumps(run_show(rest)), flush=True)
    elif role == "frontends":
        run_frontends_only(rest)
    elif role == "osc":
        run_osc_client()
    elif role == "crowd":
        run_crowd(rest)
    else:
        modes = tuple(a for a in sys.argv[1:] if not a.startswith("-")) or None
        if modes:
            print_results(conditions(_seconds(), modes), machine())
        else:
            figures = main(rss="--rss" in sys.argv)
            if "--json" in sys.argv:
                print(json.dumps(figures, default=str))
    sys.exit(0)

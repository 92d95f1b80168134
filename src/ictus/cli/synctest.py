"""``ictus sync-test``: play a map with every sync output on and hear each one from outside.

The command uses a running JACK server (``--server``, else ``$JACK_DEFAULT_SERVER`` or
the default one) or, when none answers, starts its own (``jackd -d dummy`` under a
unique name) and stops it afterwards. A recorder in another process
(:mod:`ictus.cli.sync_recorder`, JACK-Client only) listens to the MIDI port and reads
the JACK transport every cycle while the engine plays the map with MIDI clock, MTC 25
and the JACK transport as timebase master. Each output is then compared with where its
messages belong: MIDI clock and MTC with their schedules on the grid (the frame of
``round(t * rate)`` counted from the backend frame where grid frame 0 played), the JACK
transport's frame with the engine's map frame at each cycle start.

The table: per output, the messages heard and expected, the worst timing error in
samples and milliseconds, the jitter (standard deviation of the errors) and the
dropouts (expected, never heard). The target of every output is 0 samples and no
dropouts (LTC: each frame's start within 1 sample, every frame read by libltc, the
independent decoder of :mod:`ictus.sync.libltc`); missing it exits 1.
"""

# no ``from __future__ import annotations``: Typer reads the option annotations
import difflib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from ictus.cli import options as m

if TYPE_CHECKING:
    from ictus.engine.events import Change

DEMO_MAP = """\
title: ictus sync-test
count-in: 1 bar
a: 2 4/4 120
b: 2 4/4 120-150 ramp=beats
c: 1 7/8 (2+2+3) q=150
d: 2 4/4 150-100 ramp=time
e: 1 6/8 q.=80
f: 1 4/4 140
"""


class Row(NamedTuple):
    """One output's verdict."""

    output: str
    heard: int
    expected: int
    worst: int | None  # samples
    jitter: float | None  # samples
    dropouts: int
    note: str = ""
    tolerance: int = 0  # samples: 0 for MIDI and the transport, 1 for LTC

    @property
    def met(self) -> bool:
        return self.worst is not None and self.worst <= self.tolerance and self.dropouts == 0


def judge(output: str, heard: list[tuple[int, str]], want: list[tuple[int, str]]) -> Row:
    """Pair the messages heard with the ones expected (same bytes, in order) and
    measure the timing of the pairs.

    >>> judge("x", [(10, "f8"), (21, "f8")], [(10, "f8"), (20, "f8"), (30, "f8")])
    Row(output='x', heard=2, expected=3, worst=1, jitter=0.5, dropouts=1, note='', tolerance=0)
    """
    matcher = difflib.SequenceMatcher(
        None, [m for _, m in heard], [m for _, m in want], autojunk=False
    )
    errors: list[int] = []
    for a, b, size in matcher.get_matching_blocks():
        errors += [heard[a + k][0] - want[b + k][0] for k in range(size)]
    if not errors:
        return Row(output, len(heard), len(want), None, None, len(want))
    mean = sum(errors) / len(errors)
    jitter = (sum((e - mean) ** 2 for e in errors) / len(errors)) ** 0.5
    worst = max(abs(e) for e in errors)
    return Row(output, len(heard), len(want), worst, jitter, len(want) - len(errors))


def grid_and_delivery(
    output: str,
    heard: list[tuple[int, str]],
    sent: list[tuple[int, str]],
    want: list[tuple[int, str]],
    skipped: bool,
) -> Row:
    """Two measures in one row: what was heard against what the engine sent (the JACK
    road: timing, dropouts), and the clocks and quarter frames sent against their grid
    schedule (``want``; the worst distance). After frames lost in an xrun the engine
    relocates its receivers, so the transport messages then differ from the schedule:
    only the timing messages (``F8``, ``F1``) are held to it."""
    road = judge(output, heard, sent)
    timing = [(t, h) for t, h in sent if h[:2] in ("f8", "f1")]
    grid = {(t, h) for t, h in want}
    by_kind: dict[str, list[int]] = {}
    for t, h in want:
        by_kind.setdefault(h, []).append(t)
    off = 0
    for t, h in timing:
        if (t, h) not in grid:
            near = min((abs(t - w) for w in by_kind.get(h, [])), default=1 << 30)
            off = max(off, near)
    worst = None if road.worst is None else max(road.worst, off)
    note = "xrun: receivers relocated" if skipped else ""
    return Row(output, road.heard, len(want), worst, road.jitter, road.dropouts, note)


class Tee:
    """A MIDI sink writing to two others (the JACK port, and a list of what was sent)."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = sinks

    def begin(self, clock: int, frames: int) -> None:
        for s in self.sinks:
            s.begin(clock, frames)

    def send(self, messages: Any) -> None:
        for s in self.sinks:
            s.send(messages)


def _server_answers(name: str | None) -> bool:
    import jack

    jack.set_error_function(lambda _msg: None)
    jack.set_info_function(lambda _msg: None)
    try:
        client = jack.Client("ictus-probe", no_start_server=True, servername=name)
    except jack.JackOpenError:
        return False
    client.close()
    return True


def start_server(rate: int, period: int) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``jackd -d dummy`` under a unique name; returns (name, process)."""
    from ictus.errors import IctusError

    if shutil.which("jackd") is None:
        raise IctusError(
            "no JACK server runs and jackd is not installed: start one, or apt-get install jackd2"
        )
    name = f"ictst{os.getpid()}{uuid.uuid4().hex[:4]}"
    proc = subprocess.Popen(
        ["jackd", "-n", name, "-d", "dummy", "-r", str(rate), "-p", str(period)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "JACK_NO_START_SERVER": "1"},
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise IctusError(f"jackd exited at once (code {proc.returncode})")
        if _server_answers(name):
            return name, proc
        time.sleep(0.05)
    proc.terminate()
    raise IctusError("the JACK server started for the test did not answer in 10 s")


def run_test(tempo_map: Any, server: str | None) -> tuple[list[Row], dict[str, Any]]:
    """Play ``tempo_map`` on ``server`` with every output on; the verdicts and facts."""
    from ictus.engine import Engine, Route
    from ictus.engine import sync_outputs as so
    from ictus.engine.backends.jack import JackBackend
    from ictus.engine.events import EventKind
    from ictus.engine.timecode import LtcTrack
    from ictus.sync import libltc
    from ictus.timebase import FPS_25

    rec, out, name = _start_recorder(tempo_map, server)
    assert rec.stdin is not None
    sent = so.ListSink()
    with_ltc = libltc.available()
    backend = JackBackend(
        client_name="ictus-sync-test",
        connect=[f"{name}:ltc_in"] if with_ltc else "none",
        server=server,
        midi_outputs=("midi_out",),
        midi_connect={"midi_out": [name]},
    )
    midi = so.MidiSyncOutput(
        Tee(so.JackMidiSink(backend, "midi_out"), sent), clock=True, mtc=FPS_25
    )
    master = so.JackTransportMaster(backend)
    backend.timebase = master.timebase
    # LTC 25 on out_1 (to the recorder), the click on out_2 (to nothing)
    ltc = LtcTrack(FPS_25, 0)
    engine = Engine(
        tempo_map,
        backend,
        channels=2,
        click_on=[1],
        event_outputs=[midi, master],
        sources=[Route(ltc, (0,))] if with_ltc else [],
    )
    try:
        with engine:
            engine.start()
            engine.wait(timeout=tempo_map_seconds(tempo_map) * 3 + 20)
            time.sleep(0.1)
            history = list(engine.transport.history)
            xruns = backend.xruns
            rate, period = backend.rate, backend.period
    finally:
        rec.stdin.write("done\n")
        rec.stdin.flush()
        rec.wait(30)
    heard = json.loads(out.read_text())
    start = next(c for c in history if c.kind is EventKind.START)
    end = next(c for c in history if c.kind is EventKind.END)
    assert start.plan is not None
    plan = start.plan
    line = plan.grid.timeline
    assert line is not None
    c0 = start.clock - start.frame  # backend frame of grid frame 0
    frames = end.clock - c0
    skips = [c.clock for c in history if c.kind is EventKind.SKIP]
    said = [(t, m.hex()) for t, m in sent.sent]
    rows = _midi_rows(line, rate, start, end, heard["events"], said, bool(skips))
    origin = c0 + plan.origin  # backend frame of bar 1's downbeat
    rows.append(_transport_row(heard["cycles"], origin, end.clock, period))
    if with_ltc:
        import numpy as np

        audio = np.load(str(out) + ".npy")
        rows.append(ltc_row(audio, heard["audio_start"], origin, start.clock, end.clock, rate))
    facts = {
        "rate": rate,
        "period": period,
        "xruns": xruns,
        "late": len(heard["late"]),
        "sent": len(sent.sent),
        "seconds": frames / rate,
    }
    return rows, facts


def _start_recorder(
    tempo_map: Any, server: str | None
) -> tuple["subprocess.Popen[str]", Path, str]:
    """Start the recorder (:mod:`ictus.cli.sync_recorder`) in its own process and wait
    until its JACK client is open; returns (process, where it writes, its client name)."""
    from ictus.errors import IctusError

    out = Path(tempfile.mkdtemp(prefix="ictus-sync-test-")) / "heard.json"
    name = f"ictrec{uuid.uuid4().hex[:4]}"
    env = dict(os.environ)
    if server is not None:
        env["JACK_DEFAULT_SERVER"] = server
    seconds = tempo_map_seconds(tempo_map) + 10
    rec = subprocess.Popen(
        [sys.executable, "-m", "ictus.cli.sync_recorder", server or env.get(
            "JACK_DEFAULT_SERVER", "default"), name, str(out), str(seconds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert rec.stdout is not None and rec.stdin is not None
    if rec.stdout.readline().strip() != "ready":
        rec.kill()
        raise IctusError("the recorder could not open a JACK client")
    return rec, out, name


def _midi_rows(
    line: Any,
    rate: int,
    start: "Change",
    end: "Change",
    heard: list[Any],
    said: list[tuple[int, str]],
    skipped: bool,
) -> list[Row]:
    """MIDI clock and MTC 25: what the recorder heard and what the engine sent, each
    against its schedule on the grid (``line``, the timeline) from ``start`` to ``end``."""
    from ictus.sync import MidiClock, MidiClockOutput, MtcClock, MtcOutput
    from ictus.timebase import FPS_25

    def schedule(out_: Any) -> list[tuple[int, str]]:
        said = [(start.clock, m.hex()) for m in out_.start(start.frame)]
        span = end.clock - start.clock
        said += [(start.clock + o, m.hex()) for o, m in out_.render(start.frame, span)]
        said += [(end.clock, m.hex()) for m in out_.stop()]
        return said

    want_clock = schedule(MidiClockOutput(MidiClock(line, rate)))
    want_mtc = schedule(MtcOutput(MtcClock.for_timeline(line, FPS_25, rate)))
    events = [(t, h) for t, h in heard]

    def is_clock(h: str) -> bool:
        return h[:2] in ("f8", "fa", "fb", "fc", "f2")

    rows = []
    for label, want, kind in (("MIDI clock", want_clock, True), ("MTC 25", want_mtc, False)):
        heard_here = [e for e in events if is_clock(e[1]) == kind]
        sent_here = [e for e in said if is_clock(e[1]) == kind]
        rows.append(grid_and_delivery(label, heard_here, sent_here, want, skipped))
    return rows


def _transport_row(cycles: list[Any], origin: int, end: int, period: int) -> Row:
    """The JACK transport: every rolling cycle's frame (as the recorder read it) against
    the engine's map frame, ``origin`` being the backend frame of bar 1's downbeat and
    ``end`` the one where the map ended."""
    times = [c[0] for c in cycles]
    rolling = [(t, frame, bbt) for t, on, frame, bbt in cycles if on]
    errors = [frame - (t - origin) for t, frame, _ in rolling]
    settle = _settled(cycles, period)
    judged = [e for (t, _, _), e in zip(rolling, errors, strict=True) if settle(t)]
    missing = sum(1 for t, _, bbt in rolling if bbt is None)
    if judged:
        mean = sum(judged) / len(judged)
        jitter = (sum((e - mean) ** 2 for e in judged) / len(judged)) ** 0.5
        worst: int | None = max(abs(e) for e in judged)
    else:
        jitter, worst = 0.0, None
    expected = sum(1 for t in times if origin <= t <= end)  # these should roll
    missing += max(expected - len(rolling) - 1, 0)  # the last cycle may be the stop's
    return Row("JACK transport", len(rolling), expected, worst, jitter, missing,
               "frame at each cycle start")  # fmt: skip


def ltc_row(audio: Any, audio_start: int, origin: int, begin: int, end: int, rate: int) -> Row:
    """LTC 25 heard: every frame libltc reads, its start edge against ``origin + k *
    rate / 25`` (frame ``k`` after bar 1's 00:00:00:00); the frames wholly inside the
    playing stretch after its first (libltc cannot read a frame out of silence) are
    expected."""
    from fractions import Fraction

    from ictus.sync import libltc
    from ictus.timebase import FPS_25, frames_per_day, parse_timecode

    spf = Fraction(rate) / FPS_25.fps
    frames = libltc.decode(audio, float(spf))
    day = frames_per_day(FPS_25)
    errors: list[int] = []
    seen: set[int] = set()
    for f in frames:
        k = parse_timecode(f.label, FPS_25)
        k = k - day if k > day // 2 else k  # the count-in runs before midnight
        ideal = origin + round(k * spf)
        at = audio_start + f.start
        if begin <= ideal and ideal + spf <= end:
            errors.append(at - ideal)
            seen.add(k)
    k_lo = -int((origin - begin) // spf) + 1  # the first whole frame after the start, +1
    k_hi = int((end - origin) // spf) - 1
    want = set(range(k_lo, k_hi + 1))
    missing = len(want - seen)
    if not errors:
        return Row("LTC 25", 0, len(want), None, None, missing, "decoded by libltc", 1)
    mean = sum(errors) / len(errors)
    jitter = (sum((e - mean) ** 2 for e in errors) / len(errors)) ** 0.5
    worst = max(abs(e) for e in errors)
    return Row("LTC 25", len(frames), len(want), worst, jitter, missing, "decoded by libltc", 1)


def _settled(cycles: list[Any], period: int) -> Any:
    """True for cycle times at least four cycles after a lost cycle (JACK needs three to
    relocate the transport after the engine followed the server's clock)."""
    times = [c[0] for c in cycles]
    gaps = [b for a, b in itertools.pairwise(times) if b - a != period]
    return lambda t: not any(0 <= t - g < 4 * period for g in gaps)


def tempo_map_seconds(tempo_map: Any) -> float:
    from ictus.tempomap import Timeline

    return float(Timeline(tempo_map).duration) + 4.0


app = m.area()


@app.command("sync-test")
def sync_test(
    map_file: Annotated[
        str | None,
        typer.Argument(metavar="[MAP]", help="Tempo map to play (default: a built-in one)."),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            metavar="NAME",
            help="JACK server to use (default: $JACK_DEFAULT_SERVER or the default one; "
            "when none runs, one is started for the test).",
        ),
    ] = None,
) -> None:
    """Play a map with every sync output on, hear each from another JACK client,
    and print how exactly each arrived.

    Examples:

      ictus sync-test

      ictus sync-test song.click --server stage
    """
    from rich.console import Console
    from rich.table import Table

    from ictus.cli import common
    from ictus.engine.backends.base import BackendError
    from ictus.formats import parse_click

    tempo_map = common.load_map(map_file) if map_file else parse_click(DEMO_MAP)
    own: subprocess.Popen[bytes] | None = None
    name = server or os.environ.get("JACK_DEFAULT_SERVER") or None
    try:
        import jack  # noqa: F401
    except (ImportError, OSError) as err:
        raise BackendError(f"sync-test needs JACK-Client and libjack ({err})") from None
    if not _server_answers(name):
        if server is not None:
            raise BackendError(f"no JACK server named {server!r} answers")
        name, own = start_server(48000, 256)
        sys.stderr.write(f"ictus: started JACK server {name!r} (dummy driver)\n")
    try:
        rows, facts = run_test(tempo_map, name)
    finally:
        if own is not None:
            own.terminate()
            own.wait(10)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    table = Table(
        "output", "messages", "worst error (samples)", "worst error (ms)",
        "jitter (samples)", "dropouts", "target", "note",
        title=f"ictus sync-test: {facts['seconds']:.1f} s at {facts['rate']} Hz, "
        f"{facts['period']} frames a cycle",
    )  # fmt: skip
    for r in rows:
        worst = "-" if r.worst is None else str(r.worst)
        ms = "-" if r.worst is None else f"{r.worst * 1000 / facts['rate']:.3f}"
        jitter = "-" if r.jitter is None else f"{r.jitter:.2f}"
        table.add_row(
            r.output, f"{r.heard} / {r.expected}", worst, ms, jitter, str(r.dropouts),
            "met" if r.met else "MISSED", r.note,
        )  # fmt: skip
    if not any(r.output.startswith("LTC") for r in rows):
        table.add_row("LTC", "-", "-", "-", "-", "-", "-", "no libltc11 to read it")
    console.print(table)
    console.print(f"xruns: {facts['xruns']}; cycles the recorder ran late: {facts['late']}")
    if not all(r.met for r in rows):
        raise typer.Exit(1)

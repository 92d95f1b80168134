"""A private JACK server and a recording JACK client for the live engine's tests.

:class:`JackServer` starts ``jackd -n <unique name> -d dummy -r 48000 -p 256`` with
``JACK_NO_START_SERVER=1`` and ``JACK_DEFAULT_SERVER=<name>``, waits until a client can
connect, and stops it by PID. The session fixture :func:`jack_server` runs one for the
whole test session and points this process's environment at it (so in-process JACK
clients find it); tests that kill a server start their own, and talk to it from other
processes only (libjack keeps one server's state per process).

:class:`Recorder` is the peer that listens: a second JACK client, written here and not
in ictus, that copies its inputs into a preallocated array indexed by the server's frame
time, so a recording and the engine's event clocks line up exactly and a lost cycle
shows as a gap rather than shifting everything after it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def have_jackd() -> bool:
    return shutil.which("jackd") is not None


_LATE = re.compile(r"JackEngine::XRun: client = (\S+) was not finished")


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies, so a crashed or
    timed-out test session still stops its servers properly (freeing their slots)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class JackServer:
    """One dummy-driver JACK server with a unique name."""

    def __init__(self, rate: int = 48000, period: int = 256, name: str | None = None) -> None:
        self.rate = rate
        self.period = period
        # short: jack_lsp (1.9.21) overflows a buffer with names of 22 characters or more
        self.name = name or f"ict{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.gettempdir()) / f"{self.name}.log"

    @property
    def env(self) -> dict[str, str]:
        """An environment for child processes that use this server."""
        return {**os.environ, "JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": self.name}

    def start(self, timeout: float = 10.0) -> JackServer:
        if not have_jackd():
            raise RuntimeError("jackd is not installed: apt-get install jackd2 (make test does)")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    "jackd",
                    "-n",
                    self.name,
                    "-d",
                    "dummy",
                    "-r",
                    str(self.rate),
                    "-p",
                    str(self.period),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jackd exited: {self.log.read_text(errors='replace')}")
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"jackd {self.name} did not come up in {timeout} s")

    def answers(self) -> bool:
        """True when a client can connect now (asked by ``jack_lsp``, out of process)."""
        return self.ports() is not None

    def ports(self, timeout: float = 5.0) -> list[str] | None:
        """The server's port names, or None if it does not answer.

        Probing from another process: libjack keeps one server's state per process, and
        a test process talking to two servers at once can crash (the tests that kill a
        server run their own, next to the session's).
        """
        try:
            proc = subprocess.run(
                ["jack_lsp", "-s", self.name],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
        if proc.returncode != 0:
            return None
        return proc.stdout.split()

    def log_mark(self) -> int:
        """Where the server's log ends now (see :meth:`late_clients`)."""
        return self.log.stat().st_size if self.log.exists() else 0

    def late_clients(self, since: int = 0) -> Counter[str]:
        """How often the server blamed each client for an xrun since ``since``.

        jackd names the client that had not finished its cycle ("JackEngine::XRun:
        client = NAME was not finished"), so an xrun of the machine or of the test's
        own recorder is told apart from one of ictus.
        """
        with open(self.log, "rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
        return Counter(_LATE.findall(text))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server by PID (SIGTERM, then SIGKILL after 5 s)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def kill(self) -> None:
        """Take the server away without warning (SIGKILL)."""
        self.stop(signal.SIGKILL)

    def reclaim(self) -> None:
        """Free the registry slot a killed server leaves behind.

        libjack keeps at most 8 servers in its shared registry and frees a dead one's
        slot only when a server of the same name registers again; unique names would
        use the slots up. So start the name once more and stop it properly.
        """
        again = JackServer(self.rate, self.period, name=self.name)
        again.start()
        again.stop()
        # the semaphores of clients that were connected when it died stay behind too
        for leftover in Path("/dev/shm").glob(f"jack_sem.*_{self.name}_*"):
            leftover.unlink(missing_ok=True)

    def client(self, name: str) -> Any:
        import jack

        return jack.Client(name, servername=self.name, no_start_server=True)


class Recorder:
    """Record ``channels`` JACK inputs for up to ``seconds``, indexed by frame time.

    ``data[:, t - origin]`` is what arrived at frame time ``t``; ``cycles`` lists the
    frame time of every cycle recorded. Recording starts when :meth:`arm` is called
    (``origin`` = that cycle's frame time) and stops at the end of the buffer.
    """

    def __init__(
        self, server: JackServer, channels: int, seconds: float, name: str = "recorder"
    ) -> None:
        self.client = server.client(name)
        self.name = self.client.name
        self.ports = [self.client.inports.register(f"in_{i + 1}") for i in range(channels)]
        self.capacity = int(seconds * server.rate)
        self.data = np.zeros((channels, self.capacity), dtype=np.float32)
        self.cycles: list[int] = []
        self.origin: int | None = None
        self._armed = False
        #: monotonic time of every xrun the server reported to us
        self.xruns: list[float] = []
        #: frame times of the cycles this recorder ran too late in to trust
        self.late: list[int] = []
        #: monotonic time of each recorded cycle (parallel to ``cycles``)
        self.when: list[float] = []
        # a collection started by this callback would scan the whole test session's
        # heap: keep what exists now out of the collector's sight
        gc.collect()
        gc.freeze()
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(lambda _delay: self.xruns.append(time.monotonic()))
        self.client.activate()

    @property
    def port_names(self) -> list[str]:
        return [p.name for p in self.ports]

    def arm(self) -> None:
        self._armed = True

    def _process(self, frames: int) -> None:
        if not self._armed:
            return
        t = self.client.last_frame_time
        if self.origin is None:
            self.origin = t
        at = t - self.origin
        if at + frames > self.capacity:
            return
        for i, port in enumerate(self.ports):
            self.data[i, at : at + frames] = port.get_array()
        self.cycles.append(t)
        self.when.append(time.monotonic())
        # running into the next cycle's time: the buffers read may already be that
        # cycle's (the server did not wait for us), so this one proves nothing
        if self.client.frames_since_cycle_start >= frames * 3 // 4:
            self.late.append(t)

    def suspect(self, margin: int = 2) -> np.ndarray:
        """A mask over ``data``'s columns: True where the recording may not hold what
        was played in that cycle.

        When a cycle runs late (an xrun anywhere), this recorder can read an input
        buffer another client has already refilled or not yet, or see a cycle twice or
        never: such places show as cycles it ran too late in, or as irregular steps
        between recorded cycles. The ``margin`` cycles on each side of one are suspect,
        and so is every sample never recorded.
        """
        mask = np.ones(self.capacity, dtype=bool)
        if not self.cycles or self.origin is None:
            return mask
        cycles = np.array(self.cycles, dtype=np.int64)
        steps = np.diff(cycles)
        period = int(np.bincount(steps).argmax()) if len(steps) else 0
        for t in cycles:
            at = t - self.origin
            mask[at : at + max(period, 1)] = False
        for i in np.flatnonzero(steps != period):
            lo = max(int(cycles[i]) - self.origin - margin * period, 0)
            hi = int(cycles[i + 1]) - self.origin + (margin + 1) * period
            mask[lo:hi] = True
        for t in self.late:
            lo = max(t - self.origin - margin * period, 0)
            mask[lo : t - self.origin + (margin + 1) * period] = True
        # and whatever ran about when the server reported an xrun (the notice comes
        # from another thread, a little after the fact)
        when = np.array(self.when[: len(cycles)])
        for x in self.xruns:
            for t in cycles[(when > x - 0.06) & (when < x + 0.02)]:
                lo = max(int(t) - self.origin - margin * period, 0)
                mask[lo : int(t) - self.origin + (margin + 1) * period] = True
        return mask

    def wait_cycles(self, count: int, timeout: float = 5.0) -> None:
        target = len(self.cycles) + count
        deadline = time.monotonic() + timeout
        while len(self.cycles) < target and time.monotonic() < deadline:
            time.sleep(0.002)

    def close(self) -> None:
        try:
            self.client.deactivate()
            self.client.close()
        except Exception:
            pass


def _jackd_running() -> bool:
    """Whether any process on the machine is a jackd (read from /proc: no procps needed)."""
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "jackd":
                return True
        except OSError:  # the process ended while we looked
            continue
    return False


def clear_stale_jack_registry(shm: Path = Path("/dev/shm")) -> list[str]:
    """Remove JACK's shared registry and segments when no jackd runs on the machine.

    Returns what was removed. Does nothing while any jackd (a user's own, or another
    test run's) is alive, so it never pulls the floor from under a running server.
    """
    if _jackd_running() or not shm.is_dir():
        return []
    removed = []
    for entry in shm.iterdir():
        if entry.name.startswith(("jack-", "jack_")):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed


@pytest.fixture(scope="session")
def jack_server() -> Iterator[JackServer]:
    """One private JACK server (dummy driver, 48 kHz, 256 frames) for the session.

    While it runs, this process's environment points at it, so in-process JACK clients
    (``jack.Client``, the engine's JACK backend) find it without being told.
    """
    server = JackServer().start()
    saved = {k: os.environ.get(k) for k in ("JACK_NO_START_SERVER", "JACK_DEFAULT_SERVER")}
    os.environ["JACK_NO_START_SERVER"] = "1"
    os.environ["JACK_DEFAULT_SERVER"] = server.name
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def portaudio_on(server: JackServer) -> Iterator[Any]:
    """sounddevice with PortAudio's JACK host API talking to ``server``, for a while.

    PortAudio looks for a JACK server once, when it initialises, and keeps a client
    open until it terminates; it must terminate before the server goes (its JACK host
    API aborts the process otherwise) and before this process talks to another server.
    """
    import sounddevice as sd

    saved = {k: os.environ.get(k) for k in ("JACK_NO_START_SERVER", "JACK_DEFAULT_SERVER")}
    os.environ["JACK_NO_START_SERVER"] = "1"
    os.environ["JACK_DEFAULT_SERVER"] = server.name
    sd._terminate()
    sd._initialize()
    try:
        yield sd
    finally:
        sd._terminate()
        # initialise again without JACK, so nothing is left holding the server
        os.environ["JACK_DEFAULT_SERVER"] = f"ictus-no-server-{uuid.uuid4().hex[:8]}"
        sd._initialize()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ------------------------------------------------------------ what should have played

#: transport events after which the output follows a new anchor (see ictus.engine.transport)
ANCHORS = {
    "start",
    "resume",
    "locate",
    "jump",
    "loop",
    "scale",
    "rebase",
    "pause",
    "stop",
    "end",
    "error",
}


class Expected:
    """Rebuild what the engine must have played from its transport events.

    Every anchor event ``(kind, clock, frame, plan, detail)`` says: from ``clock`` on, the
    output is ``plan``'s grid at frame ``frame + (t - clock)`` (silence if ``plan`` is
    None). The samples come from fresh :class:`~ictus.render.BlockMixer` objects built
    here from each plan's grid, one per latency group and summed, never from the
    engine's own mixers.
    """

    def __init__(self, events: list[tuple[Any, ...]], voice: Any) -> None:
        self.anchors = [e for e in events if e[0] in ANCHORS]
        self.voice = voice
        self._mixers: dict[int, list[Any]] = {}

    def _mixers_for(self, plan: Any) -> list[Any]:
        from ictus.render import BlockMixer

        found = self._mixers.get(plan.serial)
        if found is None:
            outputs = plan.outputs
            found = [
                BlockMixer(
                    plan.grid,
                    self.voice,
                    rate=plan.rate,
                    channels=outputs.channels,
                    click_on=chs,
                    gains=outputs.gains,
                    offset=off,
                )
                for chs, off in outputs.groups()
            ]
            self._mixers[plan.serial] = found
        return found

    def block(self, clock: int, frames: int, channels: int) -> np.ndarray:
        """The ``(frames, channels)`` samples due from backend clock ``clock``."""
        out = np.zeros((frames, channels), dtype=np.float32)
        done = 0
        while done < frames:
            t = clock + done
            current = None
            nxt = None
            for e in self.anchors:
                if e[1] <= t:
                    current = e
                elif nxt is None:
                    nxt = e[1]
                    break
            n = frames - done if nxt is None else min(frames - done, nxt - t)
            if current is not None and current[3] is not None:
                frame = current[2] + (t - current[1])
                part = np.zeros((n, channels), dtype=np.float32)
                for mixer in self._mixers_for(current[3]):
                    tmp = np.zeros((n, channels), dtype=np.float32)
                    mixer.mix(frame, tmp)
                    part += tmp
                out[done : done + n] = part
            done += n
        return out


# ------------------------------------------------------------ a recorder in its own process


class RemoteRecorder:
    """A :class:`Recorder` run in a child process, armed from the start.

    Tests that play through an engine in their own process record with this one, so
    the recorder's Python callback never waits for the engine's interpreter lock (two
    real-time callbacks sharing one GIL would make each other late). After
    :meth:`close` it offers what a :class:`Recorder` does: ``data``, ``cycles``,
    ``origin``, ``xruns``, ``late``, ``when`` and :meth:`suspect`.
    """

    def __init__(
        self, server: JackServer, channels: int, seconds: float, name: str = "recorder"
    ) -> None:
        self.name = name
        self.port_names = [f"{name}:in_{i + 1}" for i in range(channels)]
        self._out = Path(tempfile.mkdtemp()) / "recording.npz"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "record",
                server.name,
                str(channels),
                str(seconds),
                name,
                str(self._out),
            ],
            env=server.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"the recorder did not start: {line!r}")

    def arm(self) -> None:
        """Already armed (recording starts with the child)."""

    def wait_cycles(self, count: int, timeout: float = 5.0) -> None:
        time.sleep(count * 256 / 48000 + 0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
            self.proc.wait(30)
        saved = np.load(self._out)
        self.data = saved["data"]
        self.capacity = self.data.shape[1]
        self.cycles = saved["cycles"].tolist()
        self.when = saved["when"].tolist()
        self.late = saved["late"].tolist()
        self.xruns = saved["xruns"].tolist()
        self.origin = int(saved["origin"])

    suspect = Recorder.suspect


def _record_main(argv: list[str]) -> None:
    """``python jackserver.py record SERVER CHANNELS SECONDS NAME OUT``: record until
    a line arrives on stdin, then save everything to OUT (npz)."""
    server_name, channels, seconds, name, out = argv
    server = JackServer(name=server_name)
    rec = Recorder(server, int(channels), float(seconds), name=name)
    rec.arm()
    print("ready", flush=True)
    sys.stdin.readline()
    rec.close()
    np.savez(
        out,
        data=rec.data,
        cycles=np.array(rec.cycles, dtype=np.int64),
        when=np.array(rec.when),
        late=np.array(rec.late, dtype=np.int64),
        xruns=np.array(rec.xruns),
        origin=np.int64(rec.origin if rec.origin is not None else 0),
    )


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "record":
    _record_main(sys.argv[2:])


def record_looping_play(song: Path, seconds: float, name: str, *options: str) -> np.ndarray:
    """``ictus play song --loop ...`` (it never ends by itself) into a recorder on a
    server of its own, in freewheel until ``seconds`` are recorded; then ictus must still
    be playing and stop on SIGTERM with exit 130. Returns the recorded first channel."""
    ictus = str(Path(sys.executable).parent / "ictus")
    server = JackServer().start()
    rec = Recorder(server, 1, seconds, name=f"rec-{name}")
    player = None
    freewheel = False
    try:
        rec.arm()
        player = subprocess.Popen(
            [ictus, "play", str(song), "-b", "jack", "--client-name", f"ictus-{name}",
             "--connect", rec.name, "-q", *options],
            env=server.env,
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not rec.client.get_all_connections(rec.ports[0]):
            assert player.poll() is None, player.communicate()[1]
            assert time.monotonic() < deadline, "ictus never connected to the recorder"
            time.sleep(0.01)
        rec.client.set_freewheel(True)
        freewheel = True
        deadline = time.monotonic() + 60
        while len(rec.cycles) * 256 < rec.capacity:
            assert time.monotonic() < deadline, "the recording did not fill"
            time.sleep(0.01)
        rec.client.set_freewheel(False)
        freewheel = False
        assert player.poll() is None, player.communicate()[1]  # the loop goes on
        player.terminate()
        _, err = player.communicate(timeout=10)
        assert player.returncode == 130 and "Traceback" not in err, err
    finally:
        if freewheel:
            rec.client.set_freewheel(False)
        if player is not None and player.poll() is None:
            player.kill()
            player.wait()
        rec.close()
        server.stop()
    return rec.data[0]

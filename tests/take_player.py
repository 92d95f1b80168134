"""A player for the practice tests: a JACK client in its own process (nothing of ictus).

``python take_player.py SERVER NAME TAKE.npy transport``: plays the float32 samples of
TAKE.npy (sample ``i`` is map time ``i / rate``, bar 1's downbeat at 0) on ``NAME:out_1``,
following the JACK transport: in every rolling cycle it plays the samples of the
transport's frame (JACK transport frame 0 is bar 1's downbeat: see
ictus.engine.sync_outputs), so a timebase master that rolls it starts the take.

``python take_player.py SERVER NAME TAKE.npy listen LEAD``: no transport (PortAudio's
JACK client cannot drive one). A second client ``NAME-ear`` (input ``in_1``) listens
to the click: bar 1's downbeat is at the frame time of the first non-zero sample it
hears plus ``LEAD`` frames (the count-in, less where the voice's first non-zero sample
is). Two clients, so the graph has no loop: click -> ear, and out_1 -> the recorder.

Prints ``ready``; on a line on stdin prints one JSON object and exits: ``bar1`` (the
frame time the take's sample 0 went out at), ``first`` (frame time of the first cycle
that played), ``cycles`` (how many played) and ``breaks`` (cycles whose frame did not
follow on from the first: a moved transport; ``moved`` has their frame times, and
``shifts`` each ``[frame time, bar 1's frame time from then on]``). And what
says the player itself may not have played what it meant to: ``gaps`` (``[before,
after]`` frame times of two callbacks in a row of either client that are not a period
apart: a cycle it never ran, its port left stale, or a frame time read a cycle late
or early), ``late`` (frame times of callbacks that ended after three
quarters of their period: the server may have read the port before it was filled), and
``xruns`` (how many xruns the server reported to its clients).
"""

from __future__ import annotations

import json
import sys

import jack
import numpy as np


class Log:
    """Frame time of every callback of one client, to find the cycles it lost or ran
    late in (preallocated: the callback only stores two integers)."""

    def __init__(self, client: jack.Client, size: int = 1 << 16) -> None:
        self.client = client
        self.period = client.blocksize
        self.times = np.zeros(size, np.int64)
        self.late = np.zeros(size, np.bool_)
        self.n = 0

    def cycle(self) -> None:
        """In the callback, at its end."""
        if self.n < len(self.times):
            self.times[self.n] = self.client.last_frame_time
            self.late[self.n] = self.client.frames_since_cycle_start * 4 >= self.period * 3
            self.n += 1

    def gaps(self) -> list[list[int]]:
        """``[before, after]``: frame times of two callbacks in a row, a period apart."""
        t = self.times[: self.n]
        odd = np.flatnonzero(np.diff(t) != self.period)
        return [[int(t[i]), int(t[i + 1])] for i in odd]

    def lates(self) -> list[int]:
        return [int(x) for x in self.times[: self.n][self.late[: self.n]]]


def main(argv: list[str]) -> None:
    server, name, path, mode = argv[:4]
    audio = np.load(path).astype(np.float32)
    client = jack.Client(name, servername=server, no_start_server=True)
    out = client.outports.register("out_1")
    ear_client = None
    state: dict[str, int | None] = {"bar1": None, "first": None, "cycles": 0, "breaks": 0}
    moved: list[int] = []
    shifts: list[list[int]] = []  # [frame time, bar 1's frame time from then on]
    heard: dict[str, int | None] = {"at": None}
    xruns = [0]
    logs = [Log(client)]

    def on_xrun(_delay: float) -> None:
        xruns[0] += 1

    def play(buf: np.ndarray, f: int, frames: int) -> None:
        """Samples of map frames ``[f, f + frames)`` into ``buf``."""
        buf.fill(0.0)
        lo, hi = max(f, 0), min(f + frames, len(audio))
        if lo < hi:
            buf[lo - f : hi - f] = audio[lo:hi]

    def note(t: int, bar1: int) -> None:
        if state["bar1"] is None:
            state["bar1"], state["first"] = bar1, t
        elif bar1 != state["bar1"]:
            state["breaks"] = int(state["breaks"] or 0) + 1
            if len(moved) < 1000:
                moved.append(t)
        if (not shifts or shifts[-1][1] != bar1) and len(shifts) < 100:
            shifts.append([t, bar1])
        state["cycles"] = int(state["cycles"] or 0) + 1

    if mode == "transport":

        def process(frames: int) -> None:
            buf = out.get_array()
            rolling, pos = client.transport_query_struct()
            t = client.last_frame_time
            if rolling != jack.ROLLING:
                buf.fill(0.0)
            else:
                play(buf, int(pos.frame), frames)
                note(t, t - int(pos.frame))
            logs[0].cycle()

    else:
        lead = int(argv[4])
        ear_client = jack.Client(f"{name}-ear", servername=server, no_start_server=True)
        ear = ear_client.inports.register("in_1")
        logs.append(Log(ear_client))

        def listen(frames: int) -> None:
            if heard["at"] is None:
                loud = np.flatnonzero(ear.get_array())
                if len(loud):
                    heard["at"] = ear_client.last_frame_time + int(loud[0]) + lead
            logs[1].cycle()

        def process(frames: int) -> None:
            buf = out.get_array()
            bar1 = heard["at"]
            t = client.last_frame_time
            if bar1 is None or t + frames <= bar1:
                buf.fill(0.0)
            else:
                play(buf, t - bar1, frames)
                note(t, bar1)
            logs[0].cycle()

        ear_client.set_xrun_callback(on_xrun)
        ear_client.set_process_callback(listen)
        ear_client.activate()

    client.set_xrun_callback(on_xrun)
    client.set_process_callback(process)
    client.activate()
    print("ready", flush=True)
    sys.stdin.readline()
    for c in (client, ear_client):
        if c is not None:
            c.deactivate()
            c.close()
    result = {
        **state,
        "moved": moved,
        "shifts": shifts,
        "gaps": sorted(g for log in logs for g in log.gaps()),
        "late": sorted(t for log in logs for t in log.lates()),
        "xruns": xruns[0],
    }
    json.dump(result, sys.stdout)
    print(flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

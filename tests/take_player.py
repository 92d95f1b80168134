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
follow on from the first: lost cycles, a moved transport).
"""

from __future__ import annotations

import json
import sys

import jack
import numpy as np


def main(argv: list[str]) -> None:
    server, name, path, mode = argv[:4]
    audio = np.load(path).astype(np.float32)
    client = jack.Client(name, servername=server, no_start_server=True)
    out = client.outports.register("out_1")
    ear_client = None
    state: dict[str, int | None] = {"bar1": None, "first": None, "cycles": 0, "breaks": 0}
    heard: dict[str, int | None] = {"at": None}

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
        state["cycles"] = int(state["cycles"] or 0) + 1

    if mode == "transport":

        def process(frames: int) -> None:
            buf = out.get_array()
            rolling, pos = client.transport_query_struct()
            t = client.last_frame_time
            if rolling != jack.ROLLING:
                buf.fill(0.0)
                return
            play(buf, int(pos.frame), frames)
            note(t, t - int(pos.frame))

    else:
        lead = int(argv[4])
        ear_client = jack.Client(f"{name}-ear", servername=server, no_start_server=True)
        ear = ear_client.inports.register("in_1")

        def listen(frames: int) -> None:
            if heard["at"] is None:
                loud = np.flatnonzero(ear.get_array())
                if len(loud):
                    heard["at"] = ear_client.last_frame_time + int(loud[0]) + lead

        def process(frames: int) -> None:
            buf = out.get_array()
            bar1 = heard["at"]
            t = client.last_frame_time
            if bar1 is None or t + frames <= bar1:
                buf.fill(0.0)
                return
            play(buf, t - bar1, frames)
            note(t, bar1)

        ear_client.set_process_callback(listen)
        ear_client.activate()

    client.set_process_callback(process)
    client.activate()
    print("ready", flush=True)
    sys.stdin.readline()
    for c in (client, ear_client):
        if c is not None:
            c.deactivate()
            c.close()
    json.dump(state, sys.stdout)
    print(flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""A JACK MIDI recorder in its own process: the peer that hears ictus's MIDI clock and MTC.

``python jack_midi_recorder.py SERVER NAME PORTS OUT``: opens client NAME on SERVER with
MIDI inputs ``in_1 .. in_PORTS``, prints ``ready``, and records every event as
(absolute frame = the cycle's ``last_frame_time`` + the event's offset, bytes) until a
line arrives on stdin; then writes OUT (JSON): the events per port, the frame time of
every cycle it ran, the cycles it ran too late in to trust (late, or about when the
server reported an xrun), and how many xruns it was told of.

Written here, not in ictus: nothing of ictus is imported.
"""

from __future__ import annotations

import gc
import json
import sys
import time

import jack


def main(argv: list[str]) -> None:
    server, name, count, out = argv[0], argv[1], int(argv[2]), argv[3]
    client = jack.Client(name, servername=server, no_start_server=True)
    ports = [client.midi_inports.register(f"in_{i + 1}") for i in range(count)]
    events: list[list[tuple[int, str]]] = [[] for _ in ports]
    cycles: list[int] = []
    when: list[float] = []
    late: list[int] = []
    xruns: list[float] = []

    def process(frames: int) -> None:
        t = client.last_frame_time
        cycles.append(t)
        when.append(time.monotonic())
        for i, port in enumerate(ports):
            for offset, data in port.incoming_midi_events():
                events[i].append((t + offset, bytes(data).hex()))
        if client.frames_since_cycle_start >= frames * 3 // 4:
            late.append(t)

    gc.collect()
    gc.freeze()
    client.set_process_callback(process)
    client.set_xrun_callback(lambda _delay: xruns.append(time.monotonic()))
    client.activate()
    print("ready", flush=True)
    sys.stdin.readline()
    client.deactivate()
    client.close()
    with open(out, "w") as f:
        # a cycle run about when the server reported an xrun may have read stale buffers
        # (the notice comes from another thread, a little after the fact)
        for x in xruns:
            late += [t for t, w in zip(cycles, when, strict=True) if x - 0.06 < w < x + 0.02]
        json.dump({"events": events, "cycles": cycles, "late": late, "xruns": len(xruns)}, f)


if __name__ == "__main__":
    main(sys.argv[1:])

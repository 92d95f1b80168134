"""The listening end of ``ictus sync-test``: a JACK client in its own process.

``python -m ictus.cli.sync_recorder SERVER NAME OUT`` opens client NAME on SERVER with
one MIDI input (``midi_in``), prints ``ready``, and until a line arrives on stdin
records every MIDI event with the server's frame time (the cycle's
``last_frame_time`` + the event's offset) and, every cycle, the JACK transport's state,
frame and bar/beat/tick; then writes OUT (JSON). It imports JACK-Client and nothing of
ictus, so what it hears is what another application on the server would hear.
"""

from __future__ import annotations

import gc
import json
import sys
from typing import Any

BBT = 0x10  # JackPositionBBT


def main(argv: list[str]) -> None:
    import jack

    server, name, out = argv
    client = jack.Client(name, servername=server, no_start_server=True)
    port = client.midi_inports.register("midi_in")
    events: list[tuple[int, str]] = []
    cycles: list[tuple[Any, ...]] = []
    late: list[int] = []
    rolling = jack.ROLLING

    def process(frames: int) -> None:
        t = client.last_frame_time
        for offset, data in port.incoming_midi_events():
            events.append((t + offset, bytes(data).hex()))
        state, pos = client.transport_query_struct()
        bbt = (pos.bar, pos.beat, pos.tick) if pos.valid & BBT else None
        cycles.append((t, state == rolling, pos.frame, bbt))
        if client.frames_since_cycle_start >= frames * 3 // 4:
            late.append(t)

    gc.collect()
    gc.freeze()
    client.set_process_callback(process)
    client.activate()
    print("ready", flush=True)
    sys.stdin.readline()
    client.deactivate()
    client.close()
    with open(out, "w") as f:
        json.dump({"events": events, "cycles": cycles, "late": late}, f)


if __name__ == "__main__":
    main(sys.argv[1:])

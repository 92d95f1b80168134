"""The listening end of ``ictus sync-test``: a JACK client in its own process.

``python -m ictus.cli.sync_recorder SERVER NAME OUT SECONDS`` opens client NAME on
SERVER with one MIDI input (``midi_in``) and one audio input (``ltc_in``), prints
``ready``, and until a line arrives on stdin records every MIDI event with the server's
frame time (the cycle's ``last_frame_time`` + the event's offset), every cycle the JACK
transport's state, frame and bar/beat/tick, and up to SECONDS of audio into a buffer
indexed by frame time (a lost cycle stays a gap); then writes OUT (JSON) and the audio
next to it (``.npy``, its first sample at ``audio_start``). It imports JACK-Client and nothing of
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
    import numpy as np

    server, name, out, seconds = argv
    client = jack.Client(name, servername=server, no_start_server=True)
    port = client.midi_inports.register("midi_in")
    audio_in = client.inports.register("ltc_in")
    audio = np.zeros(int(float(seconds) * client.samplerate), dtype=np.float32)
    first: list[int] = []
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
        if not first:
            first.append(t)
        at = t - first[0]
        if at + frames <= len(audio):
            audio[at : at + frames] = audio_in.get_array()
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
    np.save(out + ".npy", audio)
    with open(out, "w") as f:
        start = first[0] if first else 0
        json.dump({"events": events, "cycles": cycles, "late": late, "audio_start": start}, f)


if __name__ == "__main__":
    main(sys.argv[1:])

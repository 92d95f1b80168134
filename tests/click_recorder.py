"""A JACK client in its own process that hears a click and notes when each one starts.

``python click_recorder.py SERVER NAME``: opens client NAME on SERVER with one audio
input ``in_1``, prints ``ready``, and notes every onset (the first sample above
:data:`LEVEL` after :data:`QUIET` seconds without one) as its absolute frame time and
its host time in microseconds, which the server itself reckons
(``jack_frames_to_time``: JACK 2's clock, ``CLOCK_MONOTONIC_RAW``, the clock Ableton
Link uses). On a line on stdin it prints one JSON object and exits: the onsets, the
frame time of its first and last cycle, and the xruns it was told of.

Written here, not in ictus: nothing of ictus is imported, so two processes on two
servers can be compared on one clock.
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys
import time

import jack
import numpy as np

LEVEL = 0.05
QUIET = 0.05  # s: clicks are further apart than this


def frames_to_time(client: jack.Client):  # type: ignore[no-untyped-def]
    lib = ctypes.CDLL("libjack.so.0")
    call = lib.jack_frames_to_time
    call.restype = ctypes.c_uint64
    call.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    address = ctypes.c_void_p(int(jack._ffi.cast("uintptr_t", client._ptr)))
    return lambda frame: int(call(address, frame & 0xFFFFFFFF))


def main(argv: list[str]) -> None:
    server, name = argv[0], argv[1]
    client = jack.Client(name, servername=server, no_start_server=True)
    port = client.inports.register("in_1")
    to_time = frames_to_time(client)
    quiet = int(QUIET * client.samplerate)
    onsets: list[tuple[int, int]] = []
    cycles: list[int] = []
    last = [-(1 << 40)]
    xruns: list[int] = []  # host microseconds of each xrun the server reported

    def process(frames: int) -> None:
        t = client.last_frame_time
        if not cycles:
            cycles.append(t)
        x = port.get_array()
        loud = np.flatnonzero(np.abs(x) > LEVEL)
        for i in loud.tolist():
            f = t + i
            if f - last[0] > quiet:
                onsets.append((f, to_time(f)))
            last[0] = f

    gc.collect()
    gc.freeze()
    client.set_process_callback(process)
    def xrun(_delay: float) -> None:
        xruns.append(time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000)

    client.set_xrun_callback(xrun)
    client.activate()
    print("ready", flush=True)
    sys.stdin.readline()
    end = client.last_frame_time
    client.deactivate()
    client.close()
    json.dump(
        {"onsets": onsets, "first": cycles[0] if cycles else None, "last": end, "xruns": xruns},
        sys.stdout,
    )
    print(flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""A second JACK application for the transport tests, in its own process (no ictus).

``python jack_transport_peer.py SERVER read OUT``: prints ``ready``, then records the
transport every cycle (the cycle's frame time, rolling or not, the transport frame and,
when a timebase master publishes it, bar, beat, tick, beats a bar, beat type, ticks a
beat and tempo) until a line arrives on stdin; writes OUT (JSON).

``python jack_transport_peer.py SERVER move STEP...``: moves the transport, one step
after the other: ``locate FRAME``, ``start``, ``stop``, ``sleep SECONDS``.
"""

from __future__ import annotations

import json
import sys
import time

import jack

BBT = 0x10  # JackPositionBBT


def read(server: str, out: str) -> None:
    client = jack.Client("transport_reader", servername=server, no_start_server=True)
    cycles: list[dict[str, object]] = []

    def process(frames: int) -> None:
        state, pos = client.transport_query_struct()
        row: dict[str, object] = {
            "time": client.last_frame_time,
            "rolling": state == jack.ROLLING,
            "state": int(state),
            "frame": pos.frame,
            "bbt": bool(pos.valid & BBT),
        }
        if pos.valid & BBT:
            row.update(
                bar=pos.bar, beat=pos.beat, tick=pos.tick, beats_per_bar=pos.beats_per_bar,
                beat_type=pos.beat_type, ticks_per_beat=pos.ticks_per_beat,
                bpm=pos.beats_per_minute, bar_start_tick=pos.bar_start_tick,
            )  # fmt: skip
        cycles.append(row)

    client.set_process_callback(process)
    client.activate()
    print("ready", flush=True)
    sys.stdin.readline()
    client.deactivate()
    client.close()
    with open(out, "w") as f:
        json.dump({"cycles": cycles}, f)


def move(server: str, steps: list[str]) -> None:
    client = jack.Client("transport_mover", servername=server, no_start_server=True)
    client.activate()
    for step in steps:
        word, _, arg = step.partition(" ")
        if word == "locate":
            client.transport_locate(int(arg))
        elif word == "start":
            client.transport_start()
        elif word == "stop":
            client.transport_stop()
        elif word == "sleep":
            time.sleep(float(arg))
        else:
            raise SystemExit(f"unknown step {step!r}")
    client.deactivate()
    client.close()


if __name__ == "__main__":
    if sys.argv[2] == "read":
        read(sys.argv[1], sys.argv[3])
    else:
        move(sys.argv[1], sys.argv[3:])

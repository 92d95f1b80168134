"""An independent Ableton Link peer for the tests: the binding alone, no ictus code.

``python linkpeer.py observe START STEP COUNT QUANTUM``
    Join the session and, at host times ``START + k * STEP`` (Link microseconds), print
    one JSON line: the time, the beat and phase there, the tempo, playing, peers.
``python linkpeer.py lead START STEP COUNT QUANTUM PLAN``
    The same, leading: ``PLAN`` is ``T:BPM,T:BPM,...``, tempo ``BPM`` from host time
    ``START + T`` seconds on (``T:stop`` stops the session then). Once another peer has
    joined (or just before ``START``) it sets the first tempo and presses play
    (start/stop sync), beat 0 on the session's next bar line.

Either leaves the session (Link tells the peers) 0.1 s after its last sample and prints
``{"t": ..., "left": true}`` just before.
"""

from __future__ import annotations

import json
import sys
import time

import link


def main(argv: list[str]) -> None:
    mode, start, step, count, quantum = (
        argv[0],
        int(argv[1]),
        int(argv[2]),
        int(argv[3]),
        float(argv[4]),
    )
    plan = []
    if mode == "lead":
        plan = [
            (start + int(float(t) * 1e6), None if b == "stop" else float(b))
            for t, b in (p.split(":") for p in argv[5].split(","))
        ]
    session = link.Link(plan[0][1] or 120.0 if plan else 120.0)
    session.startStopSyncEnabled = True
    session.enabled = True
    clock = session.clock()
    if mode == "lead":
        # start once the other peer is there: a start/stop state set before two
        # sessions meet is reset when they merge (as a user presses play after joining)
        while session.numPeers() == 0 and clock.micros() < start - 300_000:
            time.sleep(0.005)
        time.sleep(0.2)  # the two sessions' merge settles after the peer count
        state = session.captureAppSessionState()
        state.setTempo(plan[0][1], clock.micros())
        # press play: now, with beat 0 on the session's next bar line (quantized launch)
        state.setIsPlayingAndRequestBeatAtTime(True, clock.micros(), 0.0, quantum)
        session.commitAppSessionState(state)
        plan.pop(0)
    for k in range(count):
        at = start + k * step
        while plan and plan[0][0] <= at:
            change, bpm = plan.pop(0)
            state = session.captureAppSessionState()
            if bpm is None:
                state.setIsPlaying(False, change)
            else:
                state.setTempo(bpm, change)
            session.commitAppSessionState(state)
        wait = (at - clock.micros()) / 1e6
        if wait > 0:
            time.sleep(wait)
        state = session.captureAppSessionState()
        print(
            json.dumps(
                {
                    "t": at,
                    "beat": state.beatAtTime(at, quantum),
                    "phase": state.phaseAtTime(at, quantum),
                    "tempo": state.tempo(),
                    "playing": state.isPlaying(),
                    "peers": session.numPeers(),
                }
            ),
            flush=True,
        )
    time.sleep(0.1)
    print(json.dumps({"t": clock.micros(), "left": True}), flush=True)
    session.enabled = False


if __name__ == "__main__":
    main(sys.argv[1:])

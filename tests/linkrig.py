"""Two Link peers as two processes, for tests/test_link.py; run inside a private network.

``python linkrig.py lead|follow`` (under ``unshare -n`` with ``lo`` up) starts the
independent peer (``linkpeer.py``, the Link binding alone) and an ictus process
(``linkrig.py ictus-lead|ictus-follow ...``, ictus's :mod:`ictus.sync.link`) at once,
and prints one JSON object: the shared start time and each process's lines (the
peer's under ``peer``, ictus's under ``ictus``). ``backup`` runs two ictus processes
instead, a main machine that leads and then dies (``peer``) and a backup that follows
it with the same map (``ictus``).

Times are Link host microseconds (the same clock in every process on one machine).
Samples are taken at ``START + k * STEP`` by both processes, each evaluating its own view
of the session at exactly that host time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEP = 20_000  # us between samples
LEAD_IN = 1_500_000  # us from launch to the transport's start
COUNT = 300  # samples: 6 s
STOP = COUNT - 25  # the leader stops its transport half a second before the end
LOCATE_AT = 3_000_000  # us after the start, the leader's transport jumps to bar 3
TAIL = 50  # the follower's samples after the peer has left: 1 s
QUANTUM = 4


def lead_map():
    """A map with a count-in, ramps up and down and meter changes (4/4, 3/4, 7/8)."""
    from ictus.tempomap.model import CountIn, Meter, Section, Tempo, TempoMap

    return TempoMap(
        (
            Section(1, Tempo(120), tempo_end=Tempo(160)),
            Section(1, Tempo(160), Meter(3, 4)),
            Section(1, Tempo(160), Meter(7, 8)),
            Section(1, Tempo(160), tempo_end=Tempo(100), ramp="time"),
            Section(4, Tempo(100)),
        ),
        count_in=CountIn(beats=2),
    )


def follow_map():
    from ictus.tempomap.model import CountIn, Section, Tempo, TempoMap

    return TempoMap((Section(8, Tempo(90)), Section(8, Tempo(120))), count_in=CountIn(bars=1))


def _now(session) -> int:
    return int(session.now())


def ictus_lead(start: int, dies: bool = False) -> None:
    from ictus.sync.link import LinkLeader, LinkSession
    from ictus.tempomap.timeline import Timeline

    line = Timeline(lead_map())
    session = LinkSession(float(line.count_in_tempo))
    leader = LinkLeader(line, session=session)
    while _now(session) < start:
        time.sleep(0.001)
    leader.start(start, 0.0)
    end = start + STOP * STEP
    origin, at = start, 0.0  # the transport: grid time `at` at host time `origin`
    located = False
    while (h := _now(session)) < end:
        if not located and h >= start + LOCATE_AT:
            # the user locates to bar 3 (the 7/8 bar), playing on from there
            origin, at, located = h, float(line.grid_time(line.bar_time(3))), True
            print(json.dumps({"t": h, "locate_to": at}), flush=True)
        # an engine's block: 256 frames at 48 kHz, every 5.3 ms
        error = leader.update(h, at + (h - origin) / 1e6)
        print(json.dumps({"t": h, "error": error, "peers": session.peers}), flush=True)
        time.sleep(0.0053)
    h = _now(session)
    if dies:  # the main machine fails: gone from the session without a stop
        print(json.dumps({"t": h, "died": True}), flush=True)
        session.close()
        return
    leader.stop(h, at + (h - origin) / 1e6)
    print(json.dumps({"t": h, "stopped": True}), flush=True)
    time.sleep((COUNT - STOP) * STEP / 1e6 + 0.2)
    session.close()


def ictus_follow(start: int, backup: bool = False) -> None:
    from ictus.sync.link import LinkFollower, LinkSession, WhenLost
    from ictus.tempomap.timeline import Timeline

    line = Timeline(lead_map() if backup else follow_map())
    session = LinkSession(float(line.count_in_tempo))
    when_lost = WhenLost.MAP if backup else WhenLost.SESSION
    follower = LinkFollower(line, session=session, when_lost=when_lost)
    for k in range(COUNT + TAIL):
        at = start + k * STEP
        wait = (at - _now(session)) / 1e6
        if wait > 0:
            time.sleep(wait)
        target = follower.target(at)
        print(json.dumps({"t": at, **target._asdict(), "state": target.state.value}), flush=True)
    session.close()


def _can_run_realtime() -> bool:
    try:
        return subprocess.run(["chrt", "-f", "10", "true"], capture_output=True).returncode == 0
    except OSError:
        return False


def rig(scenario: str) -> None:
    import link

    launch = int(link.Link(120.0).clock().micros())
    start = launch + LEAD_IN
    first = start - 10 * STEP
    peer_args = [str(first), str(STEP), str(COUNT + 10), str(QUANTUM)]
    plan = None
    ours = [sys.executable, str(HERE / "linkrig.py"), f"ictus-{scenario}", str(start)]
    if scenario == "lead":
        peer = [sys.executable, str(HERE / "linkpeer.py"), "observe", *peer_args]
    elif scenario == "backup":  # two ictus: the main leads and dies, the backup follows
        peer = [sys.executable, str(HERE / "linkrig.py"), "ictus-lead", str(start), "dies"]
        ours = [sys.executable, str(HERE / "linkrig.py"), "ictus-follow", str(start), "backup"]
    else:
        plan = "0:100,1.51:130,3.01:87.5,4.51:140,5.31:stop"
        peer = [sys.executable, str(HERE / "linkpeer.py"), "lead", *peer_args, plan]
    # Both run real-time (SCHED_FIFO), as an engine's audio thread and a DAW's would: on a
    # loaded machine a normal process can stall for 100 ms and more, and a leader that
    # stalls on a ramp leaves its peers extrapolating a stale tempo
    rt = ["chrt", "-f", "10"] if _can_run_realtime() else []
    procs = [
        subprocess.Popen([*rt, *cmd], stdout=subprocess.PIPE, text=True) for cmd in (peer, ours)
    ]
    outs = [p.communicate(timeout=30)[0] for p in procs]
    codes = [p.returncode for p in procs]
    print(
        json.dumps(
            {
                "start": start,
                "first": first,  # the peer's START: its first sample, and its plan's time 0
                "codes": codes,
                "realtime": bool(rt),
                "peer": [json.loads(x) for x in outs[0].splitlines()],
                "ictus": [json.loads(x) for x in outs[1].splitlines()],
                "plan": plan,
            }
        )
    )


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "ictus-lead":
        ictus_lead(int(sys.argv[2]), dies=sys.argv[3:] == ["dies"])
    elif what == "ictus-follow":
        ictus_follow(int(sys.argv[2]), backup=sys.argv[3:] == ["backup"])
    else:
        rig(what)

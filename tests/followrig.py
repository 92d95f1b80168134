"""The backup rig of issue 12, two machines on one: run inside a private network.

``python followrig.py SECONDS KILL_AT OUT`` (under ``unshare -n`` with ``lo`` up) starts
two JACK dummy servers with unique names, one per "machine", and on each a click
recorder (``click_recorder.py``, its own process, no ictus code). On the backup's server
``ictus play MAP --follow link`` waits; on the main's, ``ictus play MAP --link`` leads.
``KILL_AT`` seconds after the main starts it is killed (SIGKILL: no goodbye to the Link
session, as a machine that dies); the rig goes on until ``SECONDS`` and writes OUT
(JSON): each recorder's onsets (frame, host microseconds), when the main started and
died (host microseconds), the map's click times, and the exit codes.

Both ictus processes run ``SCHED_FIFO`` where allowed (``chrt -f 10``), as a show
machine's audio would; both JACK servers do too (jackd's own real-time threads).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from jackserver import JackServer  # noqa: E402

#: 4/4, a steady stretch, a ramp up and one down, a 3/4 bar; 1-bar count-in; then
#: 4/4 at 110 for as long as the rig runs (at least 40 bars: 87 s)
MAP = """title: rig
count-in: 1 bar
a: 2 4/4 120
b: 2 4/4 120-150
c: 1 3/4 150
d: 2 4/4 150-110 ramp=time
e: {bars} 4/4 110
"""


def rig_map(seconds: float) -> str:
    """The map, long enough to still play after ``seconds`` (a soak's hour too)."""
    return MAP.format(bars=max(40, math.ceil(seconds * 110 / 4 / 60)))


def now_us() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000


def _rt() -> list[str]:
    try:
        ok = subprocess.run(["chrt", "-f", "10", "true"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    return ["chrt", "-f", "10"] if ok else []


def main(seconds: float, kill_at: float, out: str) -> None:
    map_file = Path(out).with_suffix(".click")
    map_file.write_text(rig_map(seconds))
    servers = [JackServer().start(), JackServer().start()]
    procs: list[subprocess.Popen[str]] = []
    try:
        recorders = []
        for server in servers:
            rec = subprocess.Popen(
                [sys.executable, str(HERE / "click_recorder.py"), server.name, "rec"],
                env=server.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert rec.stdout is not None
            if rec.stdout.readline().strip() != "ready":
                raise RuntimeError("the click recorder did not start")
            recorders.append(rec)
        ictus = [sys.executable, "-c", "from ictus.cli.main import main; main()", "play"]
        ictus += [str(map_file), "--backend", "jack"]
        ictus += ["--connect", "rec:in_1", "--channels", "1", "-q"]
        main_srv, backup_srv = servers
        log = Path(out).with_suffix(".backup.log")
        backup = subprocess.Popen(
            [*_rt(), *ictus, "--follow", "link"],
            env=backup_srv.env,
            stdin=subprocess.DEVNULL,
            stderr=log.open("w"),  # a file: a pipe nobody reads fills up and blocks
            text=True,
        )
        procs.append(backup)
        time.sleep(2.0)  # the backup has joined the session and waits
        started = now_us()
        leader = subprocess.Popen(
            [*_rt(), *ictus, "--link"],
            env=main_srv.env,
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(leader)
        time.sleep(kill_at)
        died = now_us()
        leader.send_signal(signal.SIGKILL)
        leader.wait(5)
        time.sleep(max(seconds - kill_at, 0.0))
        results = []
        for rec in recorders:
            text, _ = rec.communicate("stop\n", timeout=20)
            results.append(json.loads(text))
        backup.send_signal(signal.SIGTERM)
        backup.wait(timeout=10)
        backup_err = log.read_text()
        from ictus.formats import parse_click
        from ictus.tempomap import build_grid

        grid = build_grid(parse_click(rig_map(seconds)))
        result = {
            "main": results[0],
            "backup": results[1],
            "started": started,
            "died": died,
            "rate": main_srv.rate,
            "clicks": [float(t) for t in grid.time],
            "codes": [leader.returncode, backup.returncode],
            "backup_err": backup_err,
        }
        Path(out).write_text(json.dumps(result))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        for server in servers:
            server.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main(float(sys.argv[1]), float(sys.argv[2]), sys.argv[3])

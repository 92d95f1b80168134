"""``ictus play --link`` heard by an independent Link peer: run inside a private network.

``python leadrig.py SECONDS OUT``: a JACK dummy server with a click recorder
(``click_recorder.py``) on it, ``ictus play MAP --link`` playing into the recorder, and
the independent peer (``linkpeer.py observe``, the binding alone) noting the session's
beat every 20 ms. Writes OUT (JSON): the click onsets (frame, host us), the peer's lines.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from jackserver import JackServer  # noqa: E402

MAP = "count-in: 1 bar\na: 40 4/4 120\n"
STEP = 20_000


def main(seconds: float, out: str) -> None:
    map_file = Path(out).with_suffix(".click")
    map_file.write_text(MAP)
    server = JackServer().start()
    procs: list[subprocess.Popen[str]] = []
    try:
        rec = subprocess.Popen(
            [sys.executable, str(HERE / "click_recorder.py"), server.name, "rec"],
            env=server.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(rec)
        assert rec.stdout is not None and rec.stdout.readline().strip() == "ready"
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000
        count = int(seconds * 1e6 / STEP)
        peer = subprocess.Popen(
            [sys.executable, str(HERE / "linkpeer.py"), "observe", str(now + 500_000),
             str(STEP), str(count), "4"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(peer)
        ictus = subprocess.Popen(
            [sys.executable, "-c", "from ictus.cli.main import main; main()", "play",
             str(map_file), "--backend", "jack", "--connect", "rec:in_1", "--channels", "1",
             "--link", "-q"],
            env=server.env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        procs.append(ictus)
        peer_out, _ = peer.communicate(timeout=seconds + 30)
        ictus.terminate()
        ictus.wait(10)
        text, _ = rec.communicate("stop\n", timeout=20)
        result = {
            "clicks": json.loads(text),
            "peer": [json.loads(x) for x in peer_out.splitlines()],
        }
        Path(out).write_text(json.dumps(result))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        server.stop()


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2])

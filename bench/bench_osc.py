"""OSC round trip on loopback: ``/ictus/status`` to a playing engine and its reply.

A python-osc client sends ``/ictus/status`` to ``ictus.remote.OscRemote`` on 127.0.0.1
and waits for the reply, one at a time, while the engine plays a map on the null
backend's paced driver (its callback thread running in real time, as on stage). The
peer: the same client against a bare python-osc server that echoes every message back
(python-osc's ``BlockingOSCUDPServer``), so the ratio is what ictus adds (its status and
the reply's encoding) over OSC in Python itself.

Run it alone with ``python bench/bench_osc.py``; ``bench/bench.py`` calls
:func:`osc_rows`.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from typing import Any

ROUND_TRIPS = int(os.environ.get("ICTUS_BENCH_OSC", "2000"))
SONG = "title: Bench\nsong: 400 4/4 120 sub=2\n"


def _round_trips(address: tuple[str, int], path: str, n: int) -> list[float]:
    from pythonosc.udp_client import SimpleUDPClient

    client = SimpleUDPClient(*address)
    times = []
    for _ in range(n + 50):
        t0 = time.perf_counter()
        client.send_message(path, [])
        client.receive(timeout=2)
        times.append(time.perf_counter() - t0)
    client.close()
    return times[50:]  # the first ones warm the caches up


def ictus_round_trips(n: int = ROUND_TRIPS) -> list[float]:
    """Seconds per ``/ictus/status`` round trip, ``n`` of them, while playing."""
    from ictus.engine import Engine
    from ictus.engine.backends.null import NullBackend
    from ictus.formats import parse_click
    from ictus.remote import OscRemote

    backend = NullBackend(rate=48000, period=256, driver="paced")
    engine = Engine(parse_click(SONG), backend)
    with engine, OscRemote(engine, port=0) as remote:
        engine.start()
        return _round_trips(remote.address, "/ictus/status", n)


def echo_round_trips(n: int = ROUND_TRIPS) -> list[float]:
    """The same with a bare python-osc server that echoes each message back."""
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_message_builder import build_msg
    from pythonosc.osc_server import BlockingOSCUDPServer

    dispatcher = Dispatcher()
    server: Any = None
    # a reply of the status reply's size and types, built per message as ictus does
    fields = ["playing", 12, 3, 4, "song", "", 120.0, 100.0, 0, "", 0, 25.5, 1224000,
              48000, 0, "", "", "", "", 0]  # fmt: skip

    def echo(client: tuple[str, int], address: str, *args: Any) -> None:
        server.socket.sendto(build_msg(address, fields).dgram, client)

    dispatcher.set_default_handler(echo, needs_reply_address=True)
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    try:
        return _round_trips(server.server_address, "/ictus/status", n)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _us(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1e6


def osc_rows() -> list[tuple[str, str, str, str, str]]:
    """Rows for bench/bench.py: median and 99th percentile of the round trip."""
    ours = ictus_round_trips()
    peer = echo_round_trips()
    rows = []
    for label, q in (("median", 0.5), ("p99", 0.99)):
        a, b = _us(ours, q), _us(peer, q)
        rows.append(
            (
                f"OSC /ictus/status round trip, {label} (peer: python-osc echo)",
                f"{a:.0f} us",
                f"{b:.0f} us",
                f"{a / b:.1f}",
                "reported",
            )
        )
    return rows


def main() -> None:
    ours = ictus_round_trips()
    peer = echo_round_trips()
    print(f"OSC round trip on 127.0.0.1, {ROUND_TRIPS} messages one at a time:")
    for name, values in (("ictus /ictus/status (playing)", ours), ("python-osc echo", peer)):
        print(
            f"  {name:32s} median {statistics.median(values) * 1e6:6.0f} us"
            f"  p99 {_us(values, 0.99):6.0f} us  max {max(values) * 1e6:7.0f} us"
        )


if __name__ == "__main__":
    main()

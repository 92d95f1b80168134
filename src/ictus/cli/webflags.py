"""``--web``, ``--web-host``, ``--web-port``: the web remote beside ``ictus play`` and
``ictus show run`` (``ictus serve`` is the web remote alone, :mod:`ictus.cli.web`).

>>> check_web_flags(False, "0.0.0.0", None)
Traceback (most recent call last):
...
ictus.cli.common.UsageError: --web-host and --web-port need --web
"""

# no ``from __future__ import annotations``: Typer reads the option annotations
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ictus.cli.common import UsageError

if TYPE_CHECKING:
    from ictus.engine import Engine
    from ictus.web.remote import ShowControls
    from ictus.web.server import WebRemote

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8750

WebOpt = Annotated[
    bool,
    typer.Option(
        "--web",
        help="Serve the web remote and visual metronome too (the page's address is "
        "printed; see ictus serve).",
    ),
]
WebHostOpt = Annotated[
    str | None,
    typer.Option(
        "--web-host",
        metavar="HOST",
        help="Address the web remote listens on (default 127.0.0.1; anything else "
        "needs the printed token).",
    ),
]
WebPortOpt = Annotated[
    int | None,
    typer.Option("--web-port", metavar="PORT", help="Its TCP port (default 8750; 0: any free)."),
]


def check_web_flags(web: bool, host: str | None, port: int | None) -> tuple[str, int] | None:
    """The checked ``(host, port)`` of the web flags, None without ``--web``."""
    if not web:
        if host is not None or port is not None:
            raise UsageError("--web-host and --web-port need --web")
        return None
    port = DEFAULT_PORT if port is None else port
    if not 0 <= port <= 65535:
        raise UsageError(f"--web-port must be 0..65535, got {port}")
    return (host or DEFAULT_HOST), port


def start_web(
    engine: "Engine | None",
    where: tuple[str, int],
    *,
    show: "ShowControls | None" = None,
    token: bool | None = None,
    visual_latency: float = 0.0,
    quiet: bool = False,
) -> "WebRemote":
    """Start the web remote of an open engine (or a running show) and print where it
    is and its token, as ``ictus serve`` does (the addresses even with ``quiet``: the
    page cannot be found without them)."""
    from ictus.cli import common

    common.needs("aiohttp", "--web")
    from ictus.web.server import WebRemote, print_addresses

    host, port = where
    server = WebRemote(
        engine, host, port, token=token, visual_latency=visual_latency, show=show
    ).start()

    def write(line: str) -> Any:
        return sys.stderr.write(line + "\n")

    print_addresses(server, write)
    return server

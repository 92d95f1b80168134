"""The web remote and visual metronome: a page for phones and tablets, served next to
the live engine.

- :mod:`.server`: the aiohttp server (:func:`serve`, :class:`WebRemote`), the page's
  WebSocket, access tokens;
- :mod:`.remote`: the one adapter through which every call reaches the engine;
- :mod:`.forecast`: the beats to come, from the click grid, so pages flash ahead of time;
- :mod:`.clock`: the engine's sample clock on this computer's clock (what pages sync to);
- :mod:`.messages`: what a page may send, checked before anything is done;
- ``static/``: the page itself (HTML, JavaScript, CSS; no build step).

aiohttp is an optional dependency (``pip install 'ictus[web]'``); importing this package
does not need it, serving does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ictus.engine import Engine

__all__ = ["serve"]

EXTRA_HINT = "the web remote needs aiohttp: pip install 'ictus[web]'"


def serve(engine: Engine, host: str = "127.0.0.1", port: int = 8750, **options: Any) -> None:
    """Serve the web remote of an open ``engine``; see :func:`ictus.web.server.serve`."""
    require_aiohttp()
    from ictus.web.server import serve as _serve

    _serve(engine, host, port, **options)


def require_aiohttp() -> None:
    """Raise a one-line :class:`~ictus.errors.IctusError` when aiohttp is missing."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        from ictus.errors import IctusError

        raise IctusError(EXTRA_HINT) from None

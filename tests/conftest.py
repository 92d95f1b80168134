"""Shared pytest fixtures, and a clean JACK registry for the session."""

from inprocess import ictus_cli
from jackserver import clear_stale_jack_registry, jack_server

__all__ = ["ictus_cli", "jack_server"]

#: Peer programs that tests start as processes of their own: not test modules, and they
#: import what they need (JACK, the Link binding) at the top, so doctest collection
#: (``--doctest-modules``) must not import them.
collect_ignore = [
    "jack_midi_recorder.py",
    "jack_transport_peer.py",
    "linkpeer.py",
    "linkrig.py",
    "take_player.py",
]


def pytest_sessionstart(session: object) -> None:
    # A jackd killed with SIGKILL (a test run cut short, a machine reset) keeps its slot
    # in JACK's shared registry, and after 8 of them no server starts ("Too many servers
    # already active"). With no jackd running, the registry holds nothing worth keeping.
    clear_stale_jack_registry()

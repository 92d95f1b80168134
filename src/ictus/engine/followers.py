"""Followers: something outside (JACK transport, Ableton Link, MIDI clock, timecode in)
that moves the transport.

A follower sees the engine only through its public API and moves it only with the same
typed :mod:`~ictus.engine.requests` a user's keys make, through
:meth:`~ictus.engine.Engine.request`. The engine calls :meth:`Follower.poll` from its
supervisor thread every few milliseconds (never from the audio callback): enough for
sources one polls (JACK transport, a Link session's state); a follower fed by messages
(MIDI clock in) runs its own thread and calls :meth:`~ictus.engine.Engine.request` from
there. A follower that loses its source says why in :attr:`Follower.lost`, which the
engine publishes in :class:`~ictus.engine.Status` (``follow``/``follow_lost``).

:class:`TransportFollower` is the simplest real one: it polls another transport for
"rolling, at bar N" and mirrors it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import NamedTuple, Protocol

from ictus.engine import requests as rq


class Controls(Protocol):
    """What a follower may use of the engine: its typed requests."""

    def request(self, request: rq.Request) -> object: ...


class Follower(ABC):
    """Moves an engine after something outside it; see the module docstring."""

    #: shown in status and on the display (``--follow NAME``)
    name: str = "?"

    def __init__(self) -> None:
        #: why the source is lost (None while following)
        self.lost: str | None = None
        self.engine: Controls | None = None

    def follow(self, engine: Controls) -> None:
        """Start following (the engine is open): keep it, open ports, start threads."""
        self.engine = engine

    @abstractmethod
    def poll(self) -> None:
        """Supervisor thread, every few ms: look at the source, make requests."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop following and release what :meth:`follow` took."""


class Place(NamedTuple):
    """Where another transport is: rolling or not, at which bar."""

    rolling: bool
    bar: int


class TransportFollower(Follower):
    """Mirror another transport polled by ``read`` (None: the source is gone).

    When it starts rolling the engine plays from its bar; when it stops, the engine
    stops; when it moves to another bar than the one it would have reached by playing
    (a locate over there), the engine locates too. Plays at the map's tempo: tempo
    following (Link, MIDI clock) is the sync issue's.
    """

    name = "transport"

    def __init__(self, read: Callable[[], Place | None]) -> None:
        super().__init__()
        self.read = read
        self._last: Place | None = None

    def poll(self) -> None:
        engine = self.engine
        if engine is None:
            return
        place = self.read()
        if place is None:
            self.lost = "the transport followed is gone"
            return
        self.lost = None
        last, self._last = self._last, place
        if last is not None and place.rolling == last.rolling and place.bar == last.bar:
            return
        if place.rolling and (last is None or not last.rolling):
            engine.request(rq.Locate(place.bar))
            engine.request(rq.Start())
        elif not place.rolling and last is not None and last.rolling:
            engine.request(rq.Stop())
            engine.request(rq.Locate(place.bar))
        elif not place.rolling or last is None or place.bar not in (last.bar, last.bar + 1):
            # stopped and moved, or rolling somewhere the music alone would not get to
            engine.request(rq.Locate(place.bar))

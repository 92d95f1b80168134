"""A take recorded through the engine, placed on the grid the engine played.

``ictus practice`` records the player through the engine's own inputs
(:class:`~ictus.engine.TakeRecorder`), so the take and the click share one counter:
the backend clock. Nothing is guessed (no ``--offset auto``):

- the recorder knows the clock of the take's first sample (``first_clock``);
- the transport wrote down where it started: its START change says grid frame
  ``frame`` of ``plan`` played at clock ``clock``, so the played grid's frame 0 (the
  first count-in click, or the start bar's downbeat) is at ``clock - frame``;
- the backend reports how late its outputs sound and its inputs arrive
  (:class:`~ictus.engine.backends.Latency`): a note played exactly on a click comes
  back ``round_trip`` frames after the click's clock.

So the take's time of the grid's time 0, as the player heard it, is
``(clock - frame + round_trip - first_clock) / rate`` seconds: the ``offset`` that
:func:`ictus.practice.timing.analyze` takes. A later move of the transport (a stop, a
locate, a tempo change) ends the part of the take that can be placed; :attr:`Alignment.
until` says where, in grid seconds.

>>> from ictus.engine.backends import Latency
>>> from ictus.engine.events import Change, EventKind as K
>>> a = align([Change(K.START, 1000, 0, "plan", None), Change(K.STOP, 9000, 8000, None, None)],
...           first_clock=200, rate=1000, latency=Latency(30, 20))
>>> a.grid_clock, a.offset, a.until
(1000, 0.85, 8.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ictus.engine.backends import Latency
from ictus.engine.events import ANCHORS, Change, EventKind
from ictus.errors import IctusError


@dataclass(frozen=True)
class Alignment:
    """Where the played grid sits in a take recorded through the engine.

    Attributes
    ----------
    rate : sample rate of the take and the engine
    first_clock : backend clock of the take's first sample
    grid_clock : backend clock of the played grid's frame 0 (its first click)
    plan : the engine's plan that played (its ``grid`` is what the take is measured on)
    latency : the backend's reported playback and capture latency (frames)
    end_clock : backend clock of the first move after the start (None: none)
    """

    rate: int
    first_clock: int
    grid_clock: int
    plan: Any
    latency: Latency
    end_clock: int | None = None

    @property
    def offset(self) -> float:
        """Take seconds of the grid's time 0 as the player heard it (round trip added)."""
        frames = self.grid_clock + self.latency.round_trip - self.first_clock
        return frames / self.rate

    @property
    def until(self) -> float | None:
        """Grid seconds where the take stops counting (the first move), or None."""
        if self.end_clock is None:
            return None
        return (self.end_clock - self.grid_clock) / self.rate

    def bar_clock(self, bar: int) -> int | None:
        """Backend clock of ``bar``'s downbeat in the played grid (None if not in it)."""
        frame = getattr(self.plan, "bar_frame", {}).get(bar)
        return None if frame is None else self.grid_clock + int(frame)


def align(
    history: Iterable[Change], *, first_clock: int, rate: int, latency: Latency
) -> Alignment:
    """The :class:`Alignment` of a take from the transport's ``history`` of changes.

    Uses the first START at or after ``first_clock``; the first later change that moves
    the output (other than the map's own end) ends the take.
    """
    start: Change | None = None
    end: int | None = None
    for change in history:
        if start is None:
            starts = change.kind is EventKind.START and change.plan is not None
            if starts and change.clock >= first_clock:
                start = change
            continue
        if change.kind in ANCHORS and change.kind is not EventKind.END:
            end = change.clock
            break
    if start is None:
        raise IctusError("the click never started while recording: nothing to measure")
    return Alignment(
        rate, first_clock, start.clock - start.frame, start.plan, latency, end_clock=end
    )

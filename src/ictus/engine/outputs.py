"""Event outputs: things other than audio that the callback stamps to the sample.

MIDI clock, MIDI Time Code, OSC beats and the like must agree with the click to the
sample, so they are produced in the very callback that mixes the audio, from the same
plan and the same position: an :class:`EventOutput` is told, for every stretch of a block
that plays, which grid frames of which plan land on which samples of the block, and
about every transport change at its sample. It finds its own events in that span (it
built its tables from the plan beforehand, on the control side, in :meth:`prepare`)
and writes them out stamped with their offset in the block (a JACK MIDI port buffer
takes exactly that offset).

Callback rules apply to :meth:`~EventOutput.begin`, :meth:`~EventOutput.play` and
:meth:`~EventOutput.change`: no I/O, no locks, no waiting, little allocation.

The engine runs every event output inside an :class:`Isolated` wrapper: an output that
raises is counted and switched off, and the click (and the other outputs) go on.

:class:`ClickOutput` does the searching for outputs that follow the clicks;
:class:`ClickLog` is the simplest one: it writes down each click's backend clock.

>>> import numpy as np
>>> from ictus.tempomap import Section, Tempo, TempoMap
>>> from ictus.sounds import Voice
>>> from ictus.engine.plan import Outputs, build_plan
>>> plan = build_plan(TempoMap((Section(1, Tempo(120)),)), Voice("i", 1000, [1.0], [1.0], [1.0]),
...                   rate=1000, outputs=Outputs(1))
>>> log = ClickLog()
>>> log.begin(7000, 600)
>>> log.play(plan, 400, 200, 0)     # block samples 0..199 play grid frames 400..599
>>> list(log.clicks)
[Click(clock=7100, bar=1, beat=2, sub=0, offset=100)]
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ictus.engine.events import Change
    from ictus.engine.plan import Plan


class EventOutput(ABC):
    """Receives, inside the audio callback, what the grid does in every block.

    Per block the transport calls :meth:`begin` once, then :meth:`change` for each
    transport change and :meth:`play` for each stretch that sounds, in block order.
    """

    def prepare(self, plan: Plan) -> None:  # noqa: B027 - optional hook
        """Control side, before ``plan`` can play: build tables (e.g. the frame of
        every 1/24 quarter for MIDI clock, from the timeline API)."""

    def begin(self, clock: int, frames: int) -> None:  # noqa: B027 - optional hook
        """Callback: a block of ``frames`` starts at backend ``clock`` (e.g. fetch and
        clear the MIDI port buffer of this cycle)."""

    def change(self, change: Change, offset: int) -> None:  # noqa: B027 - optional hook
        """Callback: the transport changed at sample ``offset`` of the block (start,
        stop, locate...: MIDI start/stop/continue and Song Position Pointer)."""

    @abstractmethod
    def play(self, plan: Plan, frame: int, frames: int, offset: int) -> None:
        """Callback: block samples ``[offset, offset + frames)`` play ``plan``'s grid
        frames ``[frame, frame + frames)`` (at the reference output, latency 0)."""


class Click(NamedTuple):
    """One click as an event output saw it."""

    clock: int  # backend clock of its first sample
    bar: int
    beat: int
    sub: int
    offset: int  # its sample in the block


class ClickOutput(EventOutput):
    """An event output that acts on each click of the grid: override :meth:`click`."""

    def __init__(self) -> None:
        self.clock = 0

    def begin(self, clock: int, frames: int) -> None:
        self.clock = clock

    def play(self, plan: Plan, frame: int, frames: int, offset: int) -> None:
        starts = plan.click_frames
        lo = bisect.bisect_left(starts, frame)
        hi = bisect.bisect_left(starts, frame + frames, lo)
        for i in range(lo, hi):
            self.click(plan, i, offset + starts[i] - frame)

    @abstractmethod
    def click(self, plan: Plan, index: int, offset: int) -> None:
        """Callback: click ``index`` of ``plan.grid`` starts at sample ``offset`` of the
        block (backend clock ``self.clock + offset``)."""


class ClickLog(ClickOutput):
    """Writes down every click it is given (the latest ``keep``), for tests and checks."""

    def __init__(self, keep: int = 1 << 16) -> None:
        super().__init__()
        self.clicks: deque[Click] = deque(maxlen=keep)

    def click(self, plan: Plan, index: int, offset: int) -> None:
        g = plan.grid
        self.clicks.append(
            Click(
                self.clock + offset,
                int(g.bar[index]),
                int(g.beat[index]),
                int(g.sub[index]),
                offset,
            )
        )


class Isolated(EventOutput):
    """Runs ``output`` so that its failure cannot stop the click or the other outputs.

    The first exception ``output`` raises in the callback is kept in :attr:`failure`
    (its ``repr``), counted in :attr:`errors`, and the output is switched off for the
    rest of the run (its state is unknown: a MIDI clock that lost a message would send a
    wrong one next). The engine publishes both in its status.

    >>> class Broken(EventOutput):
    ...     def play(self, plan, frame, frames, offset):
    ...         raise ValueError("no port")
    >>> safe = Isolated(Broken())
    >>> safe.play(None, 0, 64, 0); safe.play(None, 64, 64, 0)
    >>> safe.errors, safe.failure
    (1, "ValueError('no port')")
    """

    def __init__(self, output: EventOutput) -> None:
        self.output = output
        self.errors = 0
        self.failure: str | None = None

    def _fail(self, err: Exception) -> None:
        self.errors += 1
        if self.failure is None:
            self.failure = repr(err)

    def prepare(self, plan: Plan) -> None:
        # control side: a failure here is the caller's to see
        self.output.prepare(plan)

    def begin(self, clock: int, frames: int) -> None:
        if self.failure is None:
            try:
                self.output.begin(clock, frames)
            except Exception as err:
                self._fail(err)

    def change(self, change: Change, offset: int) -> None:
        if self.failure is None:
            try:
                self.output.change(change, offset)
            except Exception as err:
                self._fail(err)

    def play(self, plan: Plan, frame: int, frames: int, offset: int) -> None:
        if self.failure is None:
            try:
                self.output.play(plan, frame, frames, offset)
            except Exception as err:
                self._fail(err)

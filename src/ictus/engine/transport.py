"""The transport: the one owner of the play position, run by the audio callback.

Only the audio thread changes the transport's state. The control thread (the
:class:`~ictus.engine.control.Engine`) asks for changes by appending typed commands
(:mod:`ictus.engine.commands`) to a :class:`collections.deque` (``append`` and
``popleft`` are atomic, so neither side locks); the callback applies them at the start
of its next block. The callback, in turn, publishes what it did: one immutable
:class:`Snapshot` per block (a single attribute assignment, atomic) and a
:class:`~ictus.engine.events.Change` per change in :attr:`Transport.events`.

The position is kept as an *anchor*: at backend clock ``anchor_clock`` the transport
was at grid frame ``anchor_frame``, so at clock ``now`` it is at
``anchor_frame + (now - anchor_clock)``. The backend's clock is the truth: when an
xrun loses frames the clock jumps and the position jumps with it, so every later click
is again at its grid frame relative to the clock and nothing accumulates. A locate, a
loop, a jump or a tempo change only sets a new anchor.

Callback contract (what :meth:`Transport.process` promises the backend):

- fills all of ``out`` (float32, frames x channels, C-contiguous);
- no I/O, no locks, no sleeping, no allocation beyond a few small Python objects per
  block (the changes and snapshot); the mixing is :meth:`Plan.mix`, which routes through
  :meth:`ictus.render.Router.route` as the file writer does;
- never raises: an unexpected error silences the output and is kept in ``error``.

In the same callback, the routed audio sources (:mod:`ictus.engine.sources`) are mixed
with the click through the same routing function, and the transport tells the event
outputs (:mod:`ictus.engine.outputs`) which grid frames each stretch of the block played
and where each change happened, so everything the engine sends agrees to the sample.

A change ``(kind, clock, frame, plan, detail)`` says: from ``clock`` on, the output is
``plan``'s mixers at ``frame + (t - clock)`` (``plan`` None: silence); the kinds are
:class:`~ictus.engine.events.EventKind` (the moving ones in :data:`ANCHORS`).

>>> import numpy as np
>>> from ictus.tempomap import Section, Tempo, TempoMap
>>> from ictus.sounds import Voice
>>> from ictus.engine.commands import Go
>>> from ictus.engine.plan import Outputs, build_plan
>>> one = np.ones(1, dtype=np.float32)
>>> plan = build_plan(TempoMap((Section(1, Tempo(120)),)), Voice("i", 1000, one, one, one),
...                   rate=1000, outputs=Outputs(1))
>>> t = Transport(plan)
>>> t.send(Go(None, plan, None, True))
>>> out = np.empty((600, 1), dtype=np.float32)
>>> t.process(out, 0), np.flatnonzero(out[:, 0]).tolist()
(False, [0, 500])
>>> t.process(out, 600), np.flatnonzero(out[:, 0]).tolist(), t.snapshot.frame
(False, [400], 1200)
>>> t.history[0].kind
<EventKind.START: 'start'>
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ictus.engine.commands import (
    Command,
    Go,
    JumpAtNextBar,
    Pause,
    Place,
    Rebase,
    Rescale,
    Resume,
    SetLoop,
    Stop,
)
from ictus.engine.events import ANCHORS, Change, EventKind
from ictus.engine.outputs import EventOutput
from ictus.engine.plan import Plan, convert_frame
from ictus.engine.sources import SourceMixer

#: Stand-in bar number for "the end of the grid" (a jump from the last bar).
END_BAR = 1 << 30

K = EventKind

__all__ = ["ANCHORS", "END_BAR", "Snapshot", "Transport"]


class Snapshot(NamedTuple):
    """What the transport did in its last block, published once per block."""

    clock: int  # backend clock at the end of the block
    frame: int  # grid frame of the next sample to play
    playing: bool
    ended: bool
    plan: Plan
    loop: int  # map section index being looped, -1 for none
    jump: int | None  # bar a pending jump goes to
    blocks: int  # blocks processed since the transport was made
    applied: int  # commands applied so far


class Transport:
    """Play position, loop and pending jump of one engine; see the module docstring.

    Control side: :meth:`send` only. Audio side: :meth:`process` only.
    """

    def __init__(
        self,
        plan: Plan,
        *,
        outputs: Sequence[EventOutput] = (),
        sources: SourceMixer | None = None,
    ) -> None:
        self._commands: deque[Command] = deque()
        #: changes made by the callback, oldest first; the control side pops them
        self.events: deque[Change] = deque(maxlen=1 << 14)
        #: the same changes, kept (the latest 16384) for diagnostics and tests
        self.history: deque[Change] = deque(maxlen=1 << 14)
        self.outputs = tuple(outputs)
        self.sources = sources if sources is not None and sources.routes else None
        self._now = 0  # backend clock of the block being processed
        self.error: BaseException | None = None
        #: test-only hook called in the callback after the commands (None in real use)
        self.hook: Any = None
        self._plan = plan
        self._playing = False
        self._ended = False
        self._anchor_frame = -plan.preroll
        self._anchor_clock = 0
        self._cursor = -plan.preroll  # how far playing got since the last anchor
        self._frame_end = -plan.preroll
        self._expect: int | None = None
        self._loop = -1
        # (bar at whose downbeat to jump, target bar, fallback plan holding it)
        self._jump: tuple[int, int, Plan | None] | None = None
        self._blocks = 0
        self._applied = 0
        self._zeroed: object = None  # the output array the last block left all zeros
        self.snapshot = Snapshot(0, -plan.preroll, False, False, plan, -1, None, 0, 0)

    # -- control side ------------------------------------------------------------------

    def send(self, command: Command) -> None:
        """Queue a command (:mod:`ictus.engine.commands`) for the next block (any
        thread; never blocks)."""
        self._commands.append(command)

    # -- audio side --------------------------------------------------------------------

    def process(self, out: NDArray[np.float32], now: int) -> bool:
        """Fill ``out`` with the block starting at backend clock ``now`` (the callback).

        Returns True when the block is all silence.
        """
        try:
            return self._process(out, now)
        except BaseException as err:  # the show goes on: silence, and say why later
            out.fill(0.0)
            self._zeroed = None
            if self.error is None:
                self.error = err
                # recorded directly: the event outputs may be what failed
                change = Change(K.ERROR, now, self._frame_end, None, repr(err))
                self.events.append(change)
                self.history.append(change)
            self._playing = False
            return True

    def _process(self, out: NDArray[np.float32], now: int) -> bool:
        n = out.shape[0]
        self._begin_block(now, n)
        done = 0
        t = now
        # most blocks fall between clicks: then the mixer's numpy work is skipped (it
        # would write the same zeros), and so are the zeros if this very buffer was
        # left silent by the last block
        silent = True
        zeroed = out is self._zeroed
        while self._playing and done < n:
            f = self._anchor_frame + (t - self._anchor_clock)
            boundary, kind = self._next_boundary()
            if f >= boundary:
                self._cross(kind, boundary, t - (f - boundary))
                continue
            m = min(n - done, boundary - f)
            plan = self._plan
            if self.sources is not None:
                # click and sources through one routing (the click's samples unchanged)
                if self.sources.mix(plan, f, out[done : done + m]):
                    silent = False
            elif plan.quiet(f, m):
                if not zeroed:
                    out[done : done + m].fill(0.0)
            else:
                self._mix(f, out[done : done + m])
                silent = False
            for output in self.outputs:
                output.play(plan, f, m, done)
            done += m
            t += m
            self._cursor = f + m
        if done < n and not zeroed:
            out[done:].fill(0.0)
        self._zeroed = out if silent else None
        self._end_block(now + n)
        return silent

    def _begin_block(self, now: int, n: int) -> None:
        """Open the block at ``now``: note an xrun's skip, then take queued commands."""
        self._now = now
        for output in self.outputs:
            output.begin(now, n)
        if self._playing and self._expect is not None and now != self._expect:
            skip = Change(K.SKIP, now, self._position(now), self._plan, now - self._expect)
            self._event(skip)
        commands = self._commands
        while commands:
            self._apply(commands.popleft(), now)
        if self.hook is not None:
            self.hook(now)

    def _end_block(self, end: int) -> None:
        """Close the block ending at backend clock ``end``: publish where playing got to."""
        self._expect = end
        self._frame_end = self._position(end) if self._playing else self._anchor_frame
        self._blocks += 1
        jump = self._jump[1] if self._jump is not None else None
        self.snapshot = Snapshot(
            end,
            self._frame_end,
            self._playing,
            self._ended,
            self._plan,
            self._loop,
            jump,
            self._blocks,
            self._applied,
        )

    def _event(self, change: Change) -> None:
        self.events.append(change)
        self.history.append(change)
        for output in self.outputs:
            output.change(change, change.clock - self._now)

    def _position(self, clock: int) -> int:
        return self._anchor_frame + (clock - self._anchor_clock)

    def _mix(self, frame: int, out: NDArray[np.float32]) -> None:
        # every output group routed to its channels by the one routing path
        # (ictus.render.routing), the same function that writes the rendered file
        self._plan.mix(frame, out)

    def _next_boundary(self) -> tuple[int, EventKind]:
        """The next frame where something happens: the end, a jump or a loop's wrap.

        Bar lines and section ends are musical points: the earliest output (pre-roll)
        reaches them ``preroll`` frames before the reference output, so they are
        crossed that much earlier.
        """
        plan = self._plan
        boundary, kind = plan.length, K.END
        if self._jump is not None:
            at = plan.bar_frame.get(self._jump[0], plan.end) - plan.preroll
            # a jump from the last bar lands on the map's end, which may be the plan's
            # end too: the jump wins over ending there
            if at <= boundary:
                boundary, kind = at, K.JUMP
        if self._loop >= 0:
            span = plan.section_spans.get(self._loop)
            # measured from where playing got to, not from ``f``: after an xrun skipped
            # over the section's end, the loop still wraps (late, at its exact place)
            if span is not None and self._cursor + plan.preroll <= span[1]:
                at = span[1] - plan.preroll
                if at < boundary or (at == boundary and kind is K.END):
                    boundary, kind = at, K.LOOP
        return boundary, kind

    def _cross(self, kind: EventKind, boundary: int, clock: int) -> None:
        """Pass ``boundary`` (reached at backend ``clock``): wrap, jump or end."""
        plan = self._plan
        if kind is K.LOOP:
            start = plan.section_spans[self._loop][0]
            self._anchor(start - plan.preroll, clock)
            self._event(Change(K.LOOP, clock, self._anchor_frame, plan, self._loop))
        elif kind is K.JUMP:
            assert self._jump is not None
            _, bar, fallback = self._jump
            self._jump = None
            self._go(bar, None, fallback, clock)
            self._event(Change(K.JUMP, clock, self._anchor_frame, self._plan, bar))
        else:
            self._playing = False
            self._ended = True
            self._anchor_frame = boundary
            self._event(Change(K.END, clock, boundary, None, None))

    def _anchor(self, frame: int, clock: int) -> None:
        self._anchor_frame = frame
        self._anchor_clock = clock
        self._cursor = frame

    def _go(self, bar: int | None, plan: Plan | None, fallback: Plan | None, clock: int) -> None:
        """Move to a bar (``None``: the start of ``plan``); a move past the looped
        section ends the loop (the band left the vamp), one before it keeps it."""
        if plan is None:
            plan = self._plan if (bar is None or bar in self._plan.bar_frame) else fallback
            assert plan is not None, "a locate outside the current plan needs a fallback"
        self._plan = plan
        frame = 0 if bar is None else plan.bar_frame[bar]
        self._anchor(frame - plan.preroll, clock)
        self._jump = None
        self._ended = False
        target = plan.anchor if bar is None else bar
        if self._loop >= 0 and plan.bar_section.get(target, -1) > self._loop:
            self._loop = -1

    def _apply(self, command: Command, now: int) -> None:
        self._applied += 1
        if isinstance(command, Go):
            self._locate(command, now)
        elif isinstance(command, Pause):
            self._pause(now)
        elif isinstance(command, Resume):
            self._resume(now)
        elif isinstance(command, Stop):
            self._stop(now)
        elif isinstance(command, SetLoop):
            self._loop = command.section
            self._event(Change(K.SET_LOOP, now, self._position(now), None, command.section))
        elif isinstance(command, JumpAtNextBar):
            self._set_jump(command, now)
        elif isinstance(command, Rescale):
            self._rescale(command, now)
        elif isinstance(command, Place):
            self._place(command, now)
        elif isinstance(command, Rebase):
            self._rebase(now)

    def _locate(self, command: Go, now: int) -> None:
        was_playing = self._playing
        self._go(command.bar, command.plan, command.fallback, now)
        self._playing = command.play
        what = K.LOCATE if was_playing or not command.play else K.START
        sounding = self._plan if command.play else None
        self._event(Change(what, now, self._anchor_frame, sounding, command.bar))

    def _pause(self, now: int) -> None:
        if self._playing:
            self._anchor(self._position(now), now)
            self._playing = False
            self._event(Change(K.PAUSE, now, self._anchor_frame, None, None))

    def _resume(self, now: int) -> None:
        if not self._playing and not self._ended:
            self._anchor(self._anchor_frame, now)
            self._playing = True
            self._event(Change(K.RESUME, now, self._anchor_frame, self._plan, None))

    def _stop(self, now: int) -> None:
        if self._playing:
            self._anchor(self._position(now), now)
        self._playing = False
        self._jump = None
        self._event(Change(K.STOP, now, self._anchor_frame, None, None))

    def _rebase(self, now: int) -> None:
        if self._playing:
            self._anchor(self._frame_end, now)
            self._event(Change(K.REBASE, now, self._anchor_frame, self._plan, None))
        self._expect = None

    def _place(self, command: Place, now: int) -> None:
        was_playing = self._playing
        plan = self._plan = command.plan
        # where the wanted place has got to by this block's start (stopped: it waits)
        frame = command.frame + (now - command.clock) if command.play else command.frame
        self._anchor(frame, now)
        self._jump = None
        self._ended = False
        self._playing = command.play
        what = K.LOCATE if was_playing or not command.play else K.START
        sounding = plan if command.play else None
        self._event(Change(what, now, frame, sounding, plan.bar_at(max(frame, 0))))

    def _set_jump(self, command: JumpAtNextBar, now: int) -> None:
        bar, fallback = command
        if not self._playing:
            self._go(bar, None, fallback, now)
            self._event(Change(K.LOCATE, now, self._anchor_frame, None, bar))
            return
        plan = self._plan
        m = self._position(now) + plan.preroll
        i = bisect.bisect_right(plan.bar_frames, m)
        at = plan.bar_numbers[i] if i < len(plan.bar_numbers) else END_BAR
        self._jump = (at, bar, fallback)
        self._event(Change(K.SET_JUMP, now, m - plan.preroll, None, bar))

    def _rescale(self, command: Rescale, now: int) -> None:
        plans = command.plans
        new = plans.get(self._plan.key)
        if new is not None and new is not self._plan:
            if self._ended:
                self._anchor(new.length, now)
            else:
                position = self._position(now) if self._playing else self._anchor_frame
                self._anchor(convert_frame(position, self._plan, new), now)
            self._plan = new
            sounding = new if self._playing else None
            self._event(Change(K.SCALE, now, self._anchor_frame, sounding, new.scale))
        if self._jump is not None:
            at, bar, fallback = self._jump
            if fallback is not None:
                self._jump = (at, bar, plans.get(fallback.key, fallback))

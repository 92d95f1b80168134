"""What happened, for listeners: the kinds of events, the transport's own record of its
changes, and the delivery of both (with every beat in between) on a control thread.

The transport records each change it makes as a :class:`Change` (in the callback: a
tuple, no formatting). :class:`Delivery`, run by the engine's supervisor thread, turns
those into :class:`Event` objects for listeners and adds a ``section``, ``bar``, ``beat``
and ``cue`` event for every one that sounded, each stamped with the exact backend clock
of its first sample.

>>> EventKind.BEAT == "beat", EventKind("locate").name
(True, 'LOCATE')
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from ictus.engine.plan import Plan


class EventKind(StrEnum):
    """Every kind of :class:`Event` (and of transport :class:`Change`)."""

    # transport moves: from the change on, the output follows a new anchor (or is silent)
    START = "start"
    RESUME = "resume"
    LOCATE = "locate"
    JUMP = "jump"
    LOOP = "loop"  # the wrap back to the looped section's start
    SCALE = "scale"
    REBASE = "rebase"  # new backend clock after a reconnect
    PAUSE = "pause"
    STOP = "stop"
    END = "end"
    ERROR = "error"
    # transport notes that do not move the output
    SKIP = "skip"  # the backend clock jumped (frames lost in an xrun)
    SET_LOOP = "set-loop"
    SET_JUMP = "set-jump"
    # the music, worked out by the delivery thread
    SECTION = "section"
    BAR = "bar"
    BEAT = "beat"
    CUE = "cue"
    # the backend
    XRUN = "xrun"
    OFFLINE = "offline"
    ONLINE = "online"
    WARNING = "warning"


#: kinds after which the output follows a new anchor (or falls silent)
ANCHORS = frozenset(
    {
        EventKind.START,
        EventKind.RESUME,
        EventKind.LOCATE,
        EventKind.JUMP,
        EventKind.LOOP,
        EventKind.SCALE,
        EventKind.REBASE,
        EventKind.PAUSE,
        EventKind.STOP,
        EventKind.END,
        EventKind.ERROR,
    }
)


class Change(NamedTuple):
    """One change the transport made: from backend ``clock`` on, the output is
    ``plan``'s mixers at grid frame ``frame + (t - clock)`` (``plan`` None: silence)."""

    kind: EventKind
    clock: int
    frame: int
    plan: Plan | None
    detail: object


@dataclass(frozen=True)
class Event:
    """Something that happened, for listeners.

    Transport kinds carry the backend ``clock`` at which they took effect and the grid
    ``frame`` played from there on; ``beat``, ``bar``, ``section`` and ``cue`` (``detail``:
    the cue text) the clock of their first sample (a ``beat`` also its click's
    ``level``); ``xrun``, ``offline``, ``online``,
    ``warning`` and ``error`` report the backend.
    """

    kind: EventKind
    clock: int
    frame: int
    bar: int = 0
    beat: int = 0
    section: str = ""
    detail: object = None
    #: ``beat`` events: the click's :class:`~ictus.tempomap.Level` code (0 accent)
    level: int = 0


Listener = Callable[[Event], None]


class Listeners:
    """The listeners of one engine; a slow one delays the others, never the audio."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: tuple[Listener, ...] = ()
        self.errors = 0

    def add(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every event; returns the remover."""
        with self._lock:
            self._all = (*self._all, listener)

        def remove() -> None:
            with self._lock:
                self._all = tuple(x for x in self._all if x is not listener)

        return remove

    def emit(self, event: Event) -> None:
        for listener in self._all:
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the others
                self.errors += 1


class Delivery:
    """Turns the transport's changes into events, with every beat that sounded.

    Called again and again from one control thread (:meth:`deliver`); each call emits
    everything that happened before the transport's last published block.
    """

    def __init__(self, listeners: Listeners, on_end: Callable[[], None]) -> None:
        self.listeners = listeners
        self._on_end = on_end
        self._pending: deque[Change] = deque()
        # while sounding: (plan, clock, frame) of the last anchor
        self._track: tuple[Plan, int, int] | None = None
        self._next_frame = 0
        self._section = ""

    def deliver(self, changes: deque[Change], clock: int, plan: Plan) -> None:
        """Hand the transport's ``changes`` and the beats between them to the listeners,
        up to backend ``clock``, where the transport's last published block ended
        playing ``plan``. Read that snapshot before taking ``changes``: then every change
        of the blocks it covers is already queued."""
        pending = self._pending
        while changes:
            pending.append(changes.popleft())
        while pending and pending[0].clock < clock:
            kind, at, frame, sounding, detail = pending.popleft()
            self._beats_until(at)
            bar, beat, section = _describe(sounding or plan, frame)
            if kind in ANCHORS:
                self._track = (sounding, at, frame) if sounding is not None else None
                self._next_frame = frame
            if kind is EventKind.END:
                self._on_end()
            self.listeners.emit(Event(kind, at, frame, bar, beat, section, detail))
        self._beats_until(clock if not pending else min(clock, pending[0].clock))

    def _beats_until(self, clock: int) -> None:
        """Emit ``section``/``bar``/``cue``/``beat`` for every beat that started before
        ``clock``, each with the exact backend clock of its first sample, worked out from
        the anchor it sounded under; nothing is missed when a listener was slow."""
        if self._track is None:
            return
        plan, clock0, frame0 = self._track
        stop = frame0 + (clock - clock0)
        if stop <= self._next_frame:
            return
        samples = plan.samples
        lo = int(np.searchsorted(samples, self._next_frame, side="left"))
        hi = int(np.searchsorted(samples, stop, side="left"))
        self._next_frame = stop
        g = plan.grid
        emit = self.listeners.emit
        for i in np.flatnonzero(g.sub[lo:hi] == 0) + lo:
            frame = int(samples[i])
            at = clock0 + frame - frame0
            bar, beat = int(g.bar[i]), int(g.beat[i])
            section = g.section_names[g.section[i]]
            if section != self._section:
                self._section = section
                emit(Event(EventKind.SECTION, at, frame, bar, beat, section))
            if beat == 1:
                emit(Event(EventKind.BAR, at, frame, bar, beat, section))
            for text in plan.cues_at.get((bar, beat), ()):
                emit(Event(EventKind.CUE, at, frame, bar, beat, section, text))
            emit(Event(EventKind.BEAT, at, frame, bar, beat, section, None, int(g.level[i])))


def _describe(plan: Plan | None, frame: int) -> tuple[int, int, str]:
    if plan is None or not len(plan.grid):
        return 0, 0, ""
    i = max(plan.click_index(frame), 0)
    g = plan.grid
    return int(g.bar[i]), int(g.beat[i]), g.section_names[g.section[i]]

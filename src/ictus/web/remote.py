"""The one place the web frontend touches the live engine.

Every call into :class:`ictus.engine.Engine` goes through :class:`Remote`, so a change of
the engine's API is a change here only. The engine's ``Status`` and ``Event`` are read by
attribute name, and their ``state``/``kind`` through :func:`tag` (a plain string today,
an enum tomorrow: both read the same).

>>> from enum import Enum
>>> class Kind(Enum):
...     BEAT = "beat"
>>> tag("beat"), tag(Kind.BEAT)
('beat', 'beat')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ictus.engine import Engine
    from ictus.tempomap import CountIn, TempoMap


def tag(value: object) -> str:
    """The plain name of a state or event kind, whether a string or an enum."""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


@dataclass(frozen=True)
class Beat:
    """One beat the engine reported: the backend ``clock`` of its first sample."""

    clock: int
    bar: int
    beat: int
    section: str


class Action(Enum):
    """What a remote can ask the engine to do (the page's buttons)."""

    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    CONTINUE = "continue"
    LOCATE = "locate"
    STEP = "step"
    LOOP = "loop"
    UNLOOP = "unloop"
    TOGGLE_LOOP = "toggle_loop"
    JUMP = "jump"
    SCALE = "scale"
    NUDGE = "nudge"
    TAP = "tap"
    # a show's (only while one runs: see ShowControls)
    GO = "go"
    NEXT = "next"
    PREVIOUS = "previous"
    VAMP = "vamp"
    RELEASE = "release"


#: What only a running show can do.
SHOW_ACTIONS = frozenset({Action.GO, Action.NEXT, Action.PREVIOUS, Action.VAMP, Action.RELEASE})
#: What a page may ask of a show's song; the rest (pause, step, loop, tempo) would take
#: the song's engine out of the runner's hands.
IN_A_SHOW = SHOW_ACTIONS | {Action.START, Action.STOP, Action.JUMP, Action.LOCATE}


class ShowControls(Protocol):
    """What the web remote needs of a running show (:class:`ictus.show.ShowRunner`
    has it): the setlist's controls, its status, and the songs' engines."""

    def go(self) -> None: ...
    def next(self) -> None: ...
    def previous(self) -> None: ...
    def stop(self) -> None: ...
    def vamp(self, label: str | None = None) -> str: ...
    def release(self) -> None: ...
    def jump(self, target: int | str) -> None: ...
    def locate(self, target: int | str) -> None: ...
    def status(self) -> Any: ...
    def loaded(self, index: int) -> Any: ...

    @property
    def playing(self) -> Any: ...


def show_engine(show: ShowControls) -> Engine | None:
    """The engine of the song a show's pages follow: the one on the stage while it
    plays, else the one cued for go (None while none is ready)."""
    on = show.playing
    status = show.status()
    if on is not None and status.playing:
        return on.engine  # type: ignore[no-any-return]
    cued = show.loaded(status.index)
    if cued is not None:
        return cued.engine  # type: ignore[no-any-return]
    return None if on is None else on.engine


#: Actions that need an argument, and its type.
ARGUMENTS: dict[Action, type] = {
    Action.LOCATE: str,
    Action.STEP: int,
    Action.LOOP: str,
    Action.JUMP: str,
    Action.SCALE: float,
    Action.NUDGE: float,
}


class Remote:
    """The engine as the web frontend sees it.

    Parameters
    ----------
    engine : Engine
        Open (its backend started).
    """

    def __init__(self, engine: Engine, show: ShowControls | None = None) -> None:
        self._engine = engine
        self.show = show

    @property
    def engine(self) -> Engine:
        return self._engine

    def follow(self) -> bool:
        """In a show, take the engine of the song to show now; returns whether it
        changed (the pages then need the new song's map)."""
        if self.show is None:
            return False
        engine = show_engine(self.show)
        if engine is None or engine is self._engine:
            return False
        self._engine = engine
        return True

    def show_status(self) -> Any:
        """The show's status (None without a show)."""
        return None if self.show is None else self.show.status()

    # -- reading ---------------------------------------------------------------------

    def status(self) -> Any:
        """The engine's status object (read its fields by attribute name)."""
        return self._engine.status()

    def clock(self) -> tuple[int, int, int]:
        """``(clock, rate, period)``: the backend clock at the end of the last block."""
        s = self._engine.status()
        return int(s.clock), int(s.rate), int(s.period)

    @staticmethod
    def next_cue(status: Any) -> tuple[bool, str | None]:
        """``(known, text)``: the next cue as the engine's status names it (engines
        that do not say give ``known`` False; the web works it out from the grid)."""
        if not hasattr(status, "next_cue"):
            return False, None
        cue = status.next_cue
        return True, None if cue is None else f"{cue.text} (bar {cue.bar})"

    def hold_the_gil_like_the_engine(self) -> bool:
        """On a real-time backend, give the calling thread the engine's priority for
        threads that take Python's lock (see ``gil_holder_priority``): a web thread
        pre-empted while holding it would make the audio thread wait. Returns whether
        it was raised."""
        if not self._engine.backend.realtime:
            return False
        import importlib

        for home in ("ictus.engine.rt", "ictus.engine.control"):  # where it lives
            try:
                raise_priority = importlib.import_module(home).gil_holder_priority
            except (ImportError, AttributeError):
                continue
            return bool(raise_priority())
        return False

    def failure(self) -> str | None:
        """Why the backend failed for good (None while it plays or can come back)."""
        failure: str | None = self._engine.failure
        return failure

    @property
    def tempo_map(self) -> TempoMap:
        """The map being played, without its count-in (see :attr:`count_in`)."""
        return self._engine.tempo_map

    @property
    def count_in(self) -> CountIn:
        return self._engine.count_in

    def listen(self, on_beat: Callable[[Beat], None], on_change: Callable[[str], None]) -> (
        Callable[[], None]
    ):
        """Call ``on_beat`` for each beat and ``on_change(kind)`` for every other event
        (on the engine's thread: both must be quick). Returns the remover."""

        def listener(event: Any) -> None:
            kind = tag(event.kind)
            if kind == "beat":
                on_beat(Beat(int(event.clock), int(event.bar), int(event.beat), event.section))
            elif kind not in ("bar", "section"):
                on_change(kind)

        return self._engine.add_listener(listener)

    # -- control ---------------------------------------------------------------------

    def act(self, action: Action, arg: Any = None, tap_at: float | None = None) -> None:
        """Do ``action`` through the engine's control API, or the show's while one runs
        (errors propagate)."""
        if self.show is not None:
            self._show_act(self.show, action, arg)
            return
        e = self._engine
        if action is Action.START:
            e.start()
        elif action is Action.STOP:
            e.stop()
        elif action is Action.PAUSE:
            e.pause()
        elif action is Action.CONTINUE:
            e.continue_()
        elif action is Action.LOCATE:
            e.locate(arg)
        elif action is Action.STEP:
            e.step(int(arg))
        elif action is Action.LOOP:
            e.loop(arg)
        elif action is Action.UNLOOP:
            e.loop(None)
        elif action is Action.TOGGLE_LOOP:
            e.toggle_loop()
        elif action is Action.JUMP:
            e.jump_at_next_bar(arg)
        elif action is Action.SCALE:
            e.set_scale(Fraction(str(arg)))
        elif action is Action.NUDGE:
            e.nudge_scale(float(arg))
        elif action is Action.TAP:
            e.tap(tap_at)
        elif action in SHOW_ACTIONS:
            from ictus.errors import ParameterError

            raise ParameterError(f"{action.value}: no show is running")

    @staticmethod
    def _show_act(show: ShowControls, action: Action, arg: Any) -> None:
        from ictus.errors import ParameterError

        if action in (Action.GO, Action.START):
            show.go()
        elif action is Action.NEXT:
            show.next()
        elif action is Action.PREVIOUS:
            show.previous()
        elif action is Action.STOP:
            show.stop()
        elif action is Action.VAMP:
            show.vamp(None if arg is None else str(arg))
        elif action is Action.RELEASE:
            show.release()
        elif action is Action.JUMP:
            show.jump(int(arg) if str(arg).isdigit() else str(arg))
        elif action is Action.LOCATE:
            show.locate(int(arg) if str(arg).isdigit() else str(arg))
        else:
            raise ParameterError(f"{action.value}: not while a show runs (use the setlist)")

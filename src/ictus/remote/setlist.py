"""Open Sound Control for a running show: the setlist's controls, its status, and the
status sent to subscribers.

The server (:class:`SetlistRemote`, UDP, 127.0.0.1 by default) turns each message into
one typed request of the show's control API, the values the show's own audio process
is driven by (:mod:`ictus.show.process`), and does it through the show's public methods
(:class:`~ictus.show.ShowRunner`, or the :class:`~ictus.show.process.ShowProcess` that
runs one): the same controls as the display's keys, a foot switch and the web remote.

=========================  ================  =============================================
address                    arguments         does
=========================  ================  =============================================
``/ictus/show/go``         (none)            ``Act(Control.GO)``: start the cued song
``/ictus/show/next``       (none)            ``Act(Control.NEXT)``: stop, cue the next song
``/ictus/show/previous``   (none)            ``Act(Control.PREVIOUS)``: stop, cue the one
                                             before
``/ictus/show/stop``       (none)            ``Act(Control.STOP)``: stop the song
``/ictus/show/vamp``       [LABEL]           ``Vamp``: loop that part (none: the song's
                                             vamp, as the key does) until released
``/ictus/show/release``    (none)            ``Act(Control.RELEASE)``: leave the vamp at the
                                             next bar line
``/ictus/show/jump``       LABEL or BAR      ``Jump``: to that part or bar at the next bar
                                             line
``/ictus/show/locate``     LABEL or BAR      ``Locate``: there at once
``/ictus/show/cue``        N or NAME         ``Cue``: stop, cue setlist song N (from 1)
``/ictus/show/status``     [PORT]            reply ``/ictus/show/status`` +
                                             :data:`SHOW_STATUS_FIELDS` to the sender
=========================  ================  =============================================

As on :mod:`ictus.remote.osc`: an address without arguments also takes a button's one
number (nonzero: press, zero: release, ignored); a bar is an integer or a float with no
fraction; anything else is counted (:class:`~ictus.remote.osc.OscCounts`: malformed,
unknown, refused, such as a vamp with no song playing) and ignored, and the server
never stops for it.

Subscribers (``--osc-send``) get ``/ictus/show/status`` with the same fields whenever
the song, its state, its part, the vamp or the next cue changes (looked at every
:data:`WATCH` seconds, from the remote's own thread: never the audio's process).

>>> _request("/ictus/show/jump", ["chorus"]), _request("/ictus/show/jump", [7.0])
(Jump(target='chorus'), Jump(target=7))
>>> _request("/ictus/show/go", []), _request("/ictus/show/go", [0])
(Act(control=<Control.GO: 'go'>), None)
>>> _request("/ictus/show/vamp", []), _request("/ictus/show/vamp", ["vamp"])
(Vamp(label=None), Vamp(label='vamp'))
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ictus.errors import ParameterError
from ictus.remote.osc import OscServer, _Malformed, _one, _pressed, _target
from ictus.show.model import Control
from ictus.show.process import Act, Cue, Jump, Locate, Vamp
from ictus.show.runner import ShowStatus

#: The controls a show's OSC messages make (what :meth:`SetlistRemote._do` performs).
SetlistRequest = Act | Vamp | Jump | Locate | Cue

#: The status reply's arguments, in order (after the address ``/ictus/show/status``).
#: Text that is absent is ``""``; ``next_cue_in`` is -1.0 when no cue is ahead.
SHOW_STATUS_FIELDS = (
    "position",
    "songs",
    "song",
    "state",
    "part",
    "bar",
    "beat",
    "vamp",
    "next_part",
    "next_cue",
    "next_cue_in",
    "seconds_left",
    "next_song",
    "then",
    "underruns",
    "osc_ignored",
)

STATUS_ADDRESS = "/ictus/show/status"

#: Seconds between two looks at the show for the subscribers.
WATCH = 0.1

_BUTTONS: dict[str, Control] = {
    "/ictus/show/go": Control.GO,
    "/ictus/show/next": Control.NEXT,
    "/ictus/show/previous": Control.PREVIOUS,
    "/ictus/show/stop": Control.STOP,
    "/ictus/show/release": Control.RELEASE,
}


def _vamp(args: list[Any]) -> Vamp | None:
    """A label (``""``: the song's own vamp), or a button's press or release."""
    if args and isinstance(args[0], str):
        label = _one(args)
        return Vamp(label or None)
    return Vamp(None) if _pressed(args) else None


def _song(args: list[Any]) -> int | str:
    """A setlist number (from 1) or a song's name."""
    value = _target(args)
    if isinstance(value, int) and value < 1:
        raise _Malformed
    return value


_WITH_ARGUMENTS: dict[str, Callable[[list[Any]], SetlistRequest | None]] = {
    "/ictus/show/vamp": _vamp,
    "/ictus/show/jump": lambda a: Jump(_target(a)),
    "/ictus/show/locate": lambda a: Locate(_target(a)),
}

CUE_ADDRESS = "/ictus/show/cue"

#: every address the server answers
ADDRESSES = (*_BUTTONS, *_WITH_ARGUMENTS, CUE_ADDRESS, STATUS_ADDRESS)


def _request(address: str, args: list[Any]) -> SetlistRequest | None:
    """The request a message makes (None: a button's release), but for ``cue``, which
    needs the setlist. Raises ``KeyError`` for an address not ours, ``_Malformed`` for
    arguments that do not fit."""
    control = _BUTTONS.get(address)
    if control is not None:
        return Act(control) if _pressed(args) else None
    return _WITH_ARGUMENTS[address](args)


class Setlist(Protocol):
    """What the OSC remote uses of a running show: its controls and its status
    (:class:`~ictus.show.ShowRunner` and :class:`~ictus.show.process.ShowProcess`
    have them)."""

    def act(self, control: Control) -> None: ...

    def vamp(self, label: str | None = None) -> str: ...

    def jump(self, target: int | str) -> None: ...

    def locate(self, target: int | str) -> None: ...

    def cue(self, index: int) -> None: ...

    def status(self) -> ShowStatus: ...


def show_state(status: ShowStatus) -> str:
    """The show's state in the display's words: ``playing``, ``finished`` (the last
    song has ended) or ``cued`` (waiting for go)."""
    if status.playing:
        return "playing"
    return "finished" if status.finished else "cued"


def show_status_arguments(status: ShowStatus, ignored: int = 0) -> list[Any]:
    """The status reply's arguments, in :data:`SHOW_STATUS_FIELDS` order (OSC types
    only: int, float, str)."""
    e = status.engine
    return [
        status.index + 1,
        len(status.setlist),
        status.song,
        show_state(status),
        (e.section or "") if e is not None else "",
        e.bar if e is not None else 0,
        e.beat if e is not None else 0,
        (e.loop or "") if e is not None else "",
        (e.next_section or "") if e is not None else "",
        status.next_cue or "",
        float(status.next_cue_in) if status.next_cue_in is not None else -1.0,
        float(status.seconds_left),
        status.next_song or "",
        status.advance,
        status.underruns,
        ignored,
    ]


class SetlistRemote(OscServer):
    """The OSC control server of a running show, and its status sender.

    Parameters
    ----------
    show : Setlist
        The running show (:class:`~ictus.show.ShowRunner` or
        :class:`~ictus.show.process.ShowProcess`).
    port, host, send_to
        As :class:`~ictus.remote.osc.OscServer`.
    """

    status_address = STATUS_ADDRESS

    def __init__(
        self,
        show: Setlist,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        send_to: Sequence[tuple[str, int]] = (),
    ) -> None:
        super().__init__(port=port, host=host, send_to=send_to)
        self.show = show
        self._last: tuple[Any, ...] | None = None  # what the subscribers were sent last

    def _do(self, address: str, args: list[Any]) -> None:
        request = (
            Cue(self._index(_song(args))) if address == CUE_ADDRESS else _request(address, args)
        )
        if request is None:
            return
        show = self.show
        match request:
            case Act(control):
                show.act(control)
            case Vamp(label):
                show.vamp(label)
            case Jump(target):
                show.jump(target)
            case Locate(target):
                show.locate(target)
            case Cue(index):
                show.cue(index)

    def _index(self, song: int | str) -> int:
        """The setlist index of song ``song`` (a number from 1, or a name)."""
        setlist = self.show.status().setlist
        if isinstance(song, str):
            if song not in setlist:
                raise ParameterError(f"no song {song!r} in the setlist")
            return setlist.index(song)
        if not 1 <= song <= len(setlist):
            raise ParameterError(f"the setlist has songs 1..{len(setlist)}, got {song}")
        return song - 1

    def _status_arguments(self) -> list[Any]:
        return show_status_arguments(self.show.status(), self.counts.ignored)

    # -- sending ---------------------------------------------------------------------

    def _subscribe(self) -> None:
        self._open_sender()
        self._watcher = threading.Thread(target=self._watch, name="ictus-osc-watch")
        self._watcher.daemon = True
        self._watcher.start()

    def _watch(self) -> None:
        while True:
            self._look()
            if self._closing.wait(WATCH):
                return

    def _look(self) -> None:
        """Send the status when something a subscriber follows has changed."""
        try:
            status = self.show.status()
        except Exception:  # the show's process gone: its last status was sent
            return
        args = show_status_arguments(status, self.counts.ignored)
        fields = dict(zip(SHOW_STATUS_FIELDS, args, strict=True))
        key = tuple(
            fields[name] for name in ("position", "song", "state", "part", "vamp", "next_cue")
        )
        if key != self._last:
            self._last = key
            self._send(STATUS_ADDRESS, args)

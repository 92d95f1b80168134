"""Open Sound Control for the live engine: a control server and events for subscribers.

The server (UDP, 127.0.0.1 by default) maps each address onto one call of the engine's
control API, as a typed :mod:`~ictus.engine.requests` value through
:meth:`~ictus.engine.Engine.request`, so a remote moves the transport exactly as the
display's keys do:

===================  ==================  =====================================================
address              arguments           does
===================  ==================  =====================================================
``/ictus/play``      (none)              :class:`~ictus.engine.requests.Start`
``/ictus/stop``      (none)              ``Stop``
``/ictus/pause``     (none)              ``Pause``
``/ictus/continue``  (none)              ``Continue``
``/ictus/locate``    BAR or LABEL        ``Locate``: at once while playing, else the cue
``/ictus/jump``      LABEL or BAR        ``JumpAtNextBar``: at the next bar line
``/ictus/loop``      [LABEL]             ``Loop``: repeat that section; no label: stop looping
``/ictus/scale``     PERCENT             ``SetScale`` (100: as written)
``/ictus/nudge``     POINTS              ``NudgeScale``
``/ictus/step``      BARS                ``Step`` (negative: back)
``/ictus/tap``       (none)              ``Tap`` (now, on arrival)
``/ictus/status``    [PORT]              reply ``/ictus/status`` + :data:`STATUS_FIELDS` to the
                                         sender (to PORT on the sender's host if given)
===================  ==================  =====================================================

An address without arguments also takes one number, as a control surface's button
sends it: nonzero on press (does it), zero on release (ignored), so a button taps once.
A bar is an integer (or a float with no fraction, as faders send); a label a string.
Messages in a bundle are done at once, in order (time tags are not waited for).

Anything else is counted in :class:`OscCounts` and ignored: a datagram that is not OSC
(or a bundle with no message in it), wrong arguments (``malformed``), an address this
server does not have (``unknown``), a request the engine refuses, such as a bar outside
the map (``refused``). The server thread never stops for them, and the engine never
hears of them.

Subscribers (``--osc-send HOST:PORT,...``) get, from the engine's listeners (its
supervisor thread, never the audio callback):

- ``/ictus/beat BAR BEAT LEVEL SECTION`` for every beat that sounds (count-in bars are
  0 and below; LEVEL is the click's level name: accent, normal, silent);
- ``/ictus/section NAME`` when a new section starts sounding;
- ``/ictus/cue TEXT`` for each text cue as its beat sounds;
- ``/ictus/state STATE`` when the state changes (playing, paused, stopped, ended,
  offline);
- ``/ictus/follow NAME LOST`` when a follower (``--follow``) loses its source or finds
  it again (LOST: why, or ``""``), looked at every 0.1 s.

>>> parse_targets("127.0.0.1:9000, stage.local:9001")
[('127.0.0.1', 9000), ('stage.local', 9001)]
>>> _request("/ictus/locate", ["chorus"]), _request("/ictus/locate", [5.0])
(Locate(target='chorus'), Locate(target=5))
>>> _request("/ictus/tap", [1.0]), _request("/ictus/tap", [0.0])
(Tap(at=None), None)
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from ictus.engine import Event, EventKind, State, Status
from ictus.engine import requests as rq
from ictus.errors import IctusError, ParameterError
from ictus.tempomap import Level

#: The status reply's arguments, in order (after the address ``/ictus/status``). Text
#: that is absent is ``""``, a jump not armed is 0, ``count_in`` is 0 or 1.
STATUS_FIELDS = (
    "state",
    "bar",
    "beat",
    "beats",
    "section",
    "next_section",
    "tempo",
    "scale_percent",
    "count_in",
    "loop",
    "jump",
    "seconds",
    "frame",
    "rate",
    "xruns",
    "cue",
    "next_cue",
    "follow",
    "follow_lost",
    "osc_ignored",
)

_LEVELS = [level.label for level in Level]

#: the state an engine is in after each transport change (None: ask the engine)
_STATE_AFTER = {
    EventKind.START: State.PLAYING,
    EventKind.RESUME: State.PLAYING,
    EventKind.PAUSE: State.PAUSED,
    EventKind.STOP: State.STOPPED,
    EventKind.END: State.ENDED,
    EventKind.OFFLINE: State.OFFLINE,
    EventKind.ONLINE: None,
    EventKind.ERROR: None,
}

# a datagram larger than this is not a control message (OSC over UDP stays far below)
_MAX_DATAGRAM = 65536


def _not_pythonosc(record: logging.LogRecord) -> bool:
    """Root-logger filter: python-osc warns on the root logger about garbage it skips
    (Python would print that on stderr, over the display); the counts say it instead."""
    return "pythonosc" not in record.pathname


class OscError(IctusError):
    """The OSC server cannot listen where it was asked to."""


class Remote(Protocol):
    """What the OSC remote uses of the engine: requests, status and listeners."""

    def request(self, request: rq.Request) -> object: ...

    def status(self) -> Status: ...

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]: ...


@dataclass
class OscCounts:
    """What the server received and what it ignored, and what it sent.

    Each count is written by one thread only (the server's, or the engine's supervisor
    for ``sent`` and ``dropped``), so reading them from anywhere is safe.
    """

    received: int = 0  #: datagrams read
    done: int = 0  #: messages that reached the engine (or were a button's release)
    malformed: int = 0  #: not OSC at all, or the wrong arguments for the address
    unknown: int = 0  #: addresses this server does not have
    refused: int = 0  #: the engine said no (a bar outside the map, an unknown label...)
    sent: int = 0  #: event messages sent to subscribers
    dropped: int = 0  #: event messages the network would not take

    @property
    def ignored(self) -> int:
        """Messages that did nothing: malformed, unknown or refused."""
        return self.malformed + self.unknown + self.refused

    @property
    def outcomes(self) -> int:
        """Messages dealt with, one way or the other: done or ignored (a datagram
        holding a bundle can hold several, or none)."""
        return self.done + self.ignored


class _Malformed(Exception):
    """The arguments do not fit the address."""


def parse_targets(text: str) -> list[tuple[str, int]]:
    """``HOST:PORT[,HOST:PORT...]`` -> ``[(host, port), ...]``.

    >>> parse_targets("9000")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: --osc-send: expected HOST:PORT[,HOST:PORT...], got '9000'
    """
    targets = []
    for item in text.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ParameterError(f"--osc-send: expected HOST:PORT[,HOST:PORT...], got {text!r}")
        targets.append((host.strip("[]"), int(port)))
    return targets


# -- arguments ---------------------------------------------------------------------------


def _whole(value: Any) -> int:
    """An OSC int, or a float without a fraction (faders send floats)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed
    if isinstance(value, float) and not value.is_integer():
        raise _Malformed
    return int(value)


def _one(args: list[Any]) -> Any:
    if len(args) != 1:
        raise _Malformed
    return args[0]


def _target(args: list[Any]) -> int | str:
    value = _one(args)
    if isinstance(value, str):
        if not value.strip():
            raise _Malformed
        return value
    return _whole(value)


def _label(args: list[Any]) -> str | None:
    if not args:
        return None
    value = _one(args)
    if not isinstance(value, str):
        raise _Malformed
    return value or None


def _number(args: list[Any]) -> float | str:
    value = _one(args)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Malformed
    return value if isinstance(value, str) else float(value)


def _points(args: list[Any]) -> float:
    value = _one(args)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed
    return float(value)


def _pressed(args: list[Any]) -> bool:
    """No argument, or a button's one number: True on press (nonzero)."""
    if not args:
        return True
    value = _one(args)
    if isinstance(value, bool):
        return value
    if not isinstance(value, int | float):
        raise _Malformed
    return value != 0


_BUTTONS: dict[str, rq.Request] = {
    "/ictus/play": rq.Start(),
    "/ictus/stop": rq.Stop(),
    "/ictus/pause": rq.Pause(),
    "/ictus/continue": rq.Continue(),
    "/ictus/tap": rq.Tap(),
}

_WITH_ARGUMENTS: dict[str, Callable[[list[Any]], rq.Request]] = {
    "/ictus/locate": lambda a: rq.Locate(_target(a)),
    "/ictus/jump": lambda a: rq.JumpAtNextBar(_target(a)),
    "/ictus/loop": lambda a: rq.Loop(_label(a)),
    "/ictus/scale": lambda a: rq.SetScale(_number(a)),
    "/ictus/nudge": lambda a: rq.NudgeScale(_points(a)),
    "/ictus/step": lambda a: rq.Step(_whole(_one(a))),
}

STATUS_ADDRESS = "/ictus/status"

#: every address the server answers
ADDRESSES = (*_BUTTONS, *_WITH_ARGUMENTS, STATUS_ADDRESS)


def _request(address: str, args: list[Any]) -> rq.Request | None:
    """The request a message makes (None: a button's release). Raises ``KeyError`` for
    an address not ours, :class:`_Malformed` for arguments that do not fit."""
    button = _BUTTONS.get(address)
    if button is not None:
        return button if _pressed(args) else None
    return _WITH_ARGUMENTS[address](args)


def status_arguments(status: Status, ignored: int = 0) -> list[Any]:
    """The status reply's arguments, in :data:`STATUS_FIELDS` order (OSC types only:
    int, float, str)."""
    cue = status.next_cue.text if status.next_cue is not None else ""
    return [
        str(status.state),
        status.bar,
        status.beat,
        status.beats,
        status.section,
        status.next_section or "",
        float(status.tempo),
        float(status.scale_percent),
        int(status.count_in),
        status.loop or "",
        status.jump or 0,
        float(status.seconds),
        status.frame,
        status.rate,
        status.xruns,
        status.cue or "",
        cue,
        status.follow or "",
        status.follow_lost or "",
        ignored,
    ]


def encode(address: str, args: Sequence[Any]) -> bytes:
    """One OSC message as bytes (ints as ``i``, floats as ``f``, text as ``s``)."""
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class OscServer:
    """An OSC control server and event sender: the sockets, the server's thread and the
    counts, shared by the remotes (:class:`OscRemote` of one engine,
    :class:`ictus.remote.setlist.SetlistRemote` of a show). A remote says what each
    address does (:meth:`_do`), what its status reply holds (:meth:`_status_arguments`)
    and what it sends subscribers (:meth:`_subscribe`).

    Parameters
    ----------
    port : int or None
        UDP port to listen on (0: any free one, see :attr:`address`); None: no server,
        only events sent.
    host : str
        Address to listen on: 127.0.0.1 (this computer only) unless widened on purpose.
    send_to : sequence of (host, port)
        Subscribers of the events.
    """

    #: the address that asks for the status, and that the reply comes back on
    status_address = STATUS_ADDRESS

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        send_to: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.port = port
        self.host = host
        self.send_to = tuple(send_to)
        self.counts = OscCounts()
        self._server: socket.socket | None = None
        self._sender: socket.socket | None = None
        self._targets: list[tuple[str, int]] = []
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._remove: Callable[[], None] | None = None
        self._send_lock = threading.Lock()  # two threads send: the supervisor and ours
        self._watcher: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where the server listens (host, port)."""
        if self._server is None:
            raise OscError("the OSC server is not listening")
        host, port = self._server.getsockname()[:2]
        return str(host), int(port)

    def open(self) -> Self:
        """Listen and subscribe to the events."""
        if self.port is not None:
            self._listen()
        if self.send_to:
            self._subscribe()
        return self

    def _listen(self) -> None:
        """Bind the server's socket and start its thread."""
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
            family, _, _, _, where = infos[0]
            server = socket.socket(family, socket.SOCK_DGRAM)
            try:
                server.bind(where)
            except OSError:
                server.close()
                raise
        except OSError as err:
            raise OscError(
                f"OSC: cannot listen on {self.host}:{self.port}: {err.strerror or err}"
            ) from None
        server.settimeout(0.1)  # to notice close(); replies go out on this socket
        self._server = server
        logging.getLogger().addFilter(_not_pythonosc)
        self._thread = threading.Thread(target=self._serve, name="ictus-osc", daemon=True)
        self._thread.start()

    def _open_sender(self) -> None:
        """The socket events go out on, and the subscribers' addresses."""
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.setblocking(False)  # the supervisor thread never waits for the network
        self._sender = sender
        self._targets = [self._resolve(host, port) for host, port in self.send_to]

    def _subscribe(self) -> None:
        """Start sending events to the subscribers (the remote's own)."""
        self._open_sender()

    @staticmethod
    def _resolve(host: str, port: int) -> tuple[str, int]:
        try:
            return socket.gethostbyname(host), port
        except OSError as err:
            raise OscError(f"--osc-send: cannot find host {host!r}: {err}") from None

    def close(self) -> None:
        """Stop listening and sending (idempotent)."""
        self._closing.set()
        if self._remove is not None:
            self._remove()
            self._remove = None
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
            logging.getLogger().removeFilter(_not_pythonosc)
        if self._watcher is not None:
            self._watcher.join(2)
            self._watcher = None
        for sock in (self._server, self._sender):
            if sock is not None:
                sock.close()
        self._server = self._sender = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def summary(self) -> str:
        """One line for the display: where it listens, what came and went.

        >>> OscRemote(None, send_to=[("127.0.0.1", 9001)]).summary()  # type: ignore[arg-type]
        'sending to 1 · 0 received · 0 ignored · 0 sent'
        """
        c = self.counts
        where = f"on {':'.join(map(str, self.address))}" if self._server is not None else ""
        sends = f"sending to {len(self.send_to)}" if self.send_to else ""
        head = ", ".join(x for x in (where, sends) if x)
        text = f"{head} · {c.received} received · {c.ignored} ignored · {c.sent} sent"
        return text + (f" · {c.dropped} dropped" if c.dropped else "")

    # -- receiving -------------------------------------------------------------------

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        while not self._closing.is_set():
            try:
                data, sender = server.recvfrom(_MAX_DATAGRAM)
            except TimeoutError:
                self._quiet()
                continue
            except OSError:
                if self._closing.is_set():
                    return
                continue  # e.g. an ICMP error of an earlier reply: keep serving
            self.handle(data, sender)

    def _quiet(self) -> None:
        """Called on the server's thread after 0.1 s without a datagram."""

    def handle(self, data: bytes, sender: tuple[str, int]) -> None:
        """Do what one datagram asks (the server's thread); never raises."""
        counts = self.counts
        counts.received += 1
        try:
            messages = [m.message for m in OscPacket(data).messages]
        except Exception:  # not OSC: python-osc raises ParseError, or worse on garbage
            counts.malformed += 1
            return
        if not messages:  # an empty bundle (or one python-osc could not read into)
            counts.malformed += 1
            return
        for message in messages:
            try:
                address, args = message.address, list(message.params)
            except Exception:
                counts.malformed += 1
                continue
            self._one(address, args, sender)

    def _one(self, address: str, args: list[Any], sender: tuple[str, int]) -> None:
        counts = self.counts
        try:
            if address == self.status_address:
                port = _whole(_one(args)) if args else sender[1]
                if not 1 <= port <= 65535:
                    raise _Malformed
                self._reply(sender[0], port)
            else:
                self._do(address, args)
        except KeyError:
            counts.unknown += 1
        except _Malformed:
            counts.malformed += 1
        except IctusError:
            counts.refused += 1
        except Exception:  # a bug must not end the server: count it with the refused
            counts.refused += 1
        else:
            counts.done += 1

    def _do(self, address: str, args: list[Any]) -> None:
        """Do what one message asks. Raises ``KeyError`` for an address not ours,
        :class:`_Malformed` for arguments that do not fit, IctusError when refused."""
        raise KeyError(address)

    def _status_arguments(self) -> list[Any]:
        """The status reply's arguments."""
        raise NotImplementedError

    def _reply(self, host: str, port: int) -> None:
        data = encode(self.status_address, self._status_arguments())
        server = self._server
        if server is not None:
            try:
                server.sendto(data, (host, port))
            except OSError:
                self.counts.dropped += 1

    # -- sending ---------------------------------------------------------------------

    def _send(self, address: str, args: Sequence[Any]) -> None:
        sender = self._sender
        if sender is None:
            return
        data = encode(address, args)
        with self._send_lock:
            for target in self._targets:
                try:
                    sender.sendto(data, target)
                except OSError:  # full buffer, unreachable: an event lost, not the show
                    self.counts.dropped += 1
                else:
                    self.counts.sent += 1


class OscRemote(OscServer):
    """The OSC control server and event sender of one engine.

    Parameters
    ----------
    engine : Engine (or anything with its ``request``, ``status``, ``add_listener``)
    port, host, send_to
        As :class:`OscServer`.
    """

    def __init__(
        self,
        engine: Remote,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        send_to: Sequence[tuple[str, int]] = (),
    ) -> None:
        super().__init__(port=port, host=host, send_to=send_to)
        self.engine = engine
        self._state: State | None = None
        self._lost: str | None = None  # the follower's last loss sent ("" : following)

    def _subscribe(self) -> None:
        """Send the engine's events to the subscribers."""
        self._open_sender()
        self._remove = self.engine.add_listener(self._on_event)
        if self._server is None:  # no server thread to look at the follower
            self._watcher = threading.Thread(target=self._watch, name="ictus-osc-watch")
            self._watcher.daemon = True
            self._watcher.start()

    def _do(self, address: str, args: list[Any]) -> None:
        request = _request(address, args)
        if request is not None:
            self.engine.request(request)

    def _status_arguments(self) -> list[Any]:
        return status_arguments(self.engine.status(), self.counts.ignored)

    def _quiet(self) -> None:
        self._follower()

    # -- sending ---------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        """Engine listener (its supervisor thread): send what subscribers want."""
        kind = event.kind
        if kind is EventKind.BEAT:
            level = _LEVELS[event.level] if 0 <= event.level < len(_LEVELS) else ""
            self._send("/ictus/beat", (event.bar, event.beat, level, event.section))
        elif kind is EventKind.SECTION:
            self._send("/ictus/section", (event.section,))
        elif kind is EventKind.CUE:
            self._send("/ictus/cue", (str(event.detail),))
        elif kind in _STATE_AFTER:
            state = _STATE_AFTER[kind]
            if state is None:
                state = self.engine.status().state
            if state is not self._state:
                self._state = state
                self._send("/ictus/state", (str(state),))

    def _watch(self) -> None:
        while not self._closing.wait(0.1):
            self._follower()

    def _follower(self) -> None:
        """Send ``/ictus/follow`` when the follower's loss changes (every 0.1 s)."""
        if self._sender is None:
            return
        try:
            status = self.engine.status()
        except Exception:  # not open yet, or closing
            return
        if status.follow is None:
            return
        lost = status.follow_lost or ""
        if lost != self._lost:
            self._lost = lost
            self._send("/ictus/follow", (status.follow, lost))

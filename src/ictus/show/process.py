"""A show's audio in a process of its own, driven from the frontends' process.

Python runs one thread at a time (the GIL). With the display, the web server and its
pages in the process of the audio callback, the callback waits for them: a show's
callback p99.9 was 46-57 % of a 128-frame period at 48 kHz with them in process,
34-47 % with the audio in a process of its own, 28-36 % with no frontend at all
(docs/REALTIME.md: the rest is the callback's own work). So ``ictus show run`` plays
the show in a child process (:func:`serve`, ``python -m ictus.show.process``) that owns the
:class:`~ictus.show.ShowRunner`: the audio backend, the songs' engines, the stems'
read-ahead and the spoken words. The parent keeps the display, the keys, the web
remote, and talks to it through :class:`ShowProcess`, which has the runner's public
surface (:class:`ictus.web.remote.ShowControls`), so every frontend drives either.

What goes between them, pickled over one socket pair
(:class:`multiprocessing.connection.Connection`):

- parent to child, one typed request at a time: :class:`Act` (a
  :class:`~ictus.show.model.Control`), :class:`Vamp`, :class:`Jump`, :class:`Locate`,
  :class:`Cue`, :class:`Look` (the status), :class:`Listen`/:class:`Unlisten` (a song's
  engine events), :class:`Close`;
- child to parent: :class:`Ready` or :class:`Failed` once, a :class:`Reply` to each
  request (each sent numbered in an :class:`Ask`; its value, or the exception the
  runner raised, raised again in the parent),
  and :class:`Heard` for each event of an engine the parent listens to.

The status is pulled, not pushed (see :meth:`ShowProcess.look`): the child answers when
a frontend asks, at most every :data:`FRESH` seconds however many frontends ask (the
display, the web server's clock watch, 50 pages share one :class:`Snapshot`). Pushing
it would need a thread in the audio process that wakes at a fixed rate, asked or not,
or a write in the callback; a thread sending the status 250 times a second cost the
callback a third to half of what the split gains (docs/REALTIME.md, ``split``).

The child never outlives the parent: the kernel sends it SIGTERM when the parent dies
(``PR_SET_PDEATHSIG``: strictly, when the parent's thread that started it ends, so open
a :class:`ShowProcess` from a thread that lives as long as the show, as the command
line's main thread does), and the end of the socket stops it too. It ignores Ctrl-C
(the terminal sends it to both): the parent closes it.

>>> Act(Control.GO), Jump("chorus"), Cue(2)
(Act(control=<Control.GO: 'go'>), Jump(target='chorus'), Cue(index=2))
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from ictus.engine import Backend, Event, Status, make_backend, rt
from ictus.errors import IctusError
from ictus.show.live import JackMidi, MidiPorts
from ictus.show.model import Control, Show, Song
from ictus.show.runner import ShowRunner, ShowStatus
from ictus.tempomap import CountIn, TempoMap

#: Seconds a status snapshot serves every frontend before the child is asked again.
FRESH = 0.02
#: Seconds the child gets to close its runner (and JACK client) before it is killed.
CLOSE_TIMEOUT = 5.0

# -- what the parent asks -------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """Do a control (go, next, previous, vamp, release, stop)."""

    control: Control


@dataclass(frozen=True)
class Vamp:
    label: str | None


@dataclass(frozen=True)
class Jump:
    target: int | str


@dataclass(frozen=True)
class Locate:
    target: int | str


@dataclass(frozen=True)
class Cue:
    index: int


@dataclass(frozen=True)
class Look:
    """The status: answered with a :class:`Snapshot`."""


@dataclass(frozen=True)
class Listen:
    """Send the events of the engine of song ``serial`` (see :class:`SongKey`)."""

    serial: int


@dataclass(frozen=True)
class Unlisten:
    serial: int


@dataclass(frozen=True)
class Close:
    """Close the runner and end."""


Request = Act | Vamp | Jump | Locate | Cue | Look | Listen | Unlisten | Close


@dataclass(frozen=True)
class Start:
    """The first message: what to play and how."""

    show: Show
    audio: AudioRecipe
    start: int
    read_ahead: int | None
    parent: int  # the parent's pid: the child ends if it is not its parent any more
    cpus: frozenset[int] | None = None  # the CPU(s) the child keeps to (rt.cpu_split)


# -- what the child answers -----------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    describe: str  # the backend's description
    pinned: bool = False  # the child keeps to its CPU: the parent keeps off it


@dataclass(frozen=True)
class Failed:
    error: BaseException


@dataclass(frozen=True)
class Ask:
    """A request and its number (its :class:`Reply` carries the number back: a reply
    to a request given up on, by Ctrl-C or a timeout, is never taken for the next)."""

    number: int
    request: Request


@dataclass(frozen=True)
class Reply:
    number: int
    value: object = None
    error: BaseException | None = None


@dataclass(frozen=True)
class Heard:
    serial: int
    event: Event


@dataclass(frozen=True)
class SongKey:
    """A song made ready in the child: its setlist index and a serial number, new each
    time the song is made ready again (a new engine)."""

    index: int
    serial: int


@dataclass(frozen=True)
class Snapshot:
    """Everything the frontends read, taken at once under the runner's lock."""

    show: ShowStatus
    failure: str | None  # the runner's, else the backend's
    xruns: int
    idle: bool  # nothing more to play without a go (ShowRunner.idle)
    playing: SongKey | None
    loaded: tuple[SongKey, ...]
    engines: dict[int, Status] = field(default_factory=dict)  # by serial
    taken: float = 0.0  # time.monotonic() in the child


# -- how the child makes its audio ------------------------------------------------------


class AudioRecipe(Protocol):
    """How the process that plays a show makes its backend (and JACK MIDI ports):
    pickled to the child, which calls it there."""

    def make(self) -> tuple[Backend, MidiPorts | None]: ...

    def connect_midi(self, midi: MidiPorts | None) -> None: ...


@dataclass(frozen=True)
class Audio:
    """The audio of ``ictus show run``: a backend by name, on JACK with the show's MIDI
    ports (:class:`~ictus.show.live.JackMidi`) connected where asked.

    >>> Audio("null", rate=48000).make()[0].describe().startswith("null")
    True
    """

    backend: str
    rate: int
    realtime: bool = False  # the null backend: paced (a display follows it) or fast
    client_name: str = "ictus-show"
    connect: str | tuple[str, ...] = "auto"
    device: str | None = None
    midi_to: tuple[str, ...] = ()
    midi_from: tuple[str, ...] = ()

    def make(self) -> tuple[Backend, MidiPorts | None]:
        if self.backend == "jack":
            midi = JackMidi()
            connect = self.connect if isinstance(self.connect, str) else list(self.connect)
            backend = make_backend(
                "jack",
                client_name=self.client_name,
                connect=connect,
                server=self.device,
                on_client=midi.register,
            )
            return backend, midi
        if self.backend == "portaudio":
            return make_backend("portaudio", device=self.device), None
        driver = "paced" if self.realtime else "fast"
        return make_backend(self.backend, rate=self.rate, driver=driver), None

    def connect_midi(self, midi: MidiPorts | None) -> None:
        """Connect the show's JACK MIDI ports to ports or clients by name."""
        from ictus.engine import BackendError

        client = getattr(midi, "client", None)
        if not isinstance(midi, JackMidi) or client is None:
            return
        for ours, items, is_input in (
            (midi.out_port, self.midi_to, True),
            (midi.in_port, self.midi_from, False),
        ):
            for item in items:
                names = [
                    p.name
                    for p in client.get_ports(
                        is_midi=True, is_input=is_input, is_output=not is_input
                    )
                    if p.name == item or p.name.split(":", 1)[0] == item
                ]
                if not names:
                    flag = "--midi-connect" if is_input else "--midi-from"
                    raise BackendError(f"{flag}: no JACK MIDI port or client {item!r}")
                for theirs in names:
                    if is_input:
                        client.connect(ours, theirs)
                    else:
                        client.connect(theirs, ours)


# -- the parent's side ------------------------------------------------------------------


class RemoteBackend:
    """What the parent knows of the child's backend (the frontends read these)."""

    realtime = False  # no audio here: the web threads need no real-time priority

    def __init__(self, owner: ShowProcess) -> None:
        self._owner = owner
        self.described = ""

    def describe(self) -> str:
        return self.described

    @property
    def xruns(self) -> int:
        return self._owner.look().xruns

    @property
    def failure(self) -> str | None:
        return self._owner.failure


class EngineView:
    """A song's engine in the child, as the web remote reads one: its status, its
    events, its map (the parent has the show: the map needs no asking)."""

    def __init__(self, owner: ShowProcess, key: SongKey, song: Song) -> None:
        self._owner = owner
        self.key = key
        # as the engine holds them (ictus.engine.Engine.__init__)
        self.tempo_map: TempoMap = song.tempo_map.with_count_in(CountIn())
        self.count_in: CountIn = song.tempo_map.count_in
        self.backend = owner.audio

    def status(self) -> Status:
        return self._owner.engine_status(self.key.serial)

    @property
    def failure(self) -> str | None:
        return self._owner.failure

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        return self._owner.listen(self.key.serial, listener)


@dataclass(eq=False)
class SongView:
    """A song made ready in the child (what :attr:`ShowRunner.playing` and
    :meth:`ShowRunner.loaded` give in process)."""

    index: int
    song: Song
    engine: EngineView


class ShowProcess:
    """Run ``show`` in a child process; the same controls and status as
    :class:`~ictus.show.ShowRunner`, from any thread.

    Parameters
    ----------
    show : Show
        Checked already (the child checks it again before anything plays).
    audio : AudioRecipe
        How the child makes its backend (:class:`Audio`).
    start : int
        Setlist index of the song cued first.
    read_ahead : int or None
        Frames of read-ahead per stem.
    pin : bool
        Keep the child on a CPU of its own and this process (the frontends) off it, on
        a machine with two CPUs or more (:func:`ictus.engine.rt.cpu_split`); the CPUs
        this process had come back at :meth:`close`.
    audio_cpu : int or None
        The child's CPU when pinning (default: the last one allowed).
    """

    def __init__(
        self,
        show: Show,
        audio: AudioRecipe,
        *,
        start: int = 0,
        read_ahead: int | None = None,
        pin: bool = True,
        audio_cpu: int | None = None,
    ) -> None:
        self.show = show
        self.songs: tuple[Song, ...] = show.songs_in_order()
        self._recipe = audio
        self._start = start
        self._read_ahead = read_ahead
        self._split = rt.cpu_split(audio_cpu) if pin else None
        self._had_cpus: frozenset[int] | None = None  # this process's, while pinned
        self.audio = RemoteBackend(self)
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._ask = threading.Lock()  # one request at a time
        self._looking = threading.Lock()
        self._answer: Reply | None = None
        self._asked = 0  # the number of the last request
        self._answered = threading.Event()
        self._snapshot: Snapshot | None = None
        self._fresh_until = 0.0
        self._lost: str | None = None
        self._closing = False
        self._reader: threading.Thread | None = None
        self._listeners: dict[int, tuple[Callable[[Event], None], ...]] = {}
        self._listening = threading.Lock()
        self._views: dict[int, SongView] = {}  # by serial
        self._viewing = threading.Lock()
        self._statuses: dict[int, Status] = {}  # the last known, by serial

    # -- life cycle ------------------------------------------------------------------------

    def open(self) -> ShowProcess:
        """Start the child and wait until it plays (or raise what stopped it)."""
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        # the child imports what the parent would (a source tree first on the path)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ictus.show.process", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=env,
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        try:
            split = self._split
            self._conn.send(
                Start(
                    self.show, self._recipe, self._start, self._read_ahead, os.getpid(),
                    None if split is None else split.audio,
                )
            )
            first = self._conn.recv()
        except (EOFError, OSError):
            self._unpin()
            raise IctusError(self._why_gone()) from None
        except BaseException:
            self.close()  # Ctrl-C while the songs are made ready: the child goes too
            raise
        if isinstance(first, Failed):
            self._unpin()
            self._closing = True
            try:
                self._proc.wait(CLOSE_TIMEOUT)  # it ends by itself
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._conn.close()
            raise first.error
        assert isinstance(first, Ready)
        if first.pinned and split is not None:
            self._had_cpus = rt.allowed_cpus()
            rt.pin_threads(split.rest)
        self.audio.described = first.describe
        self._reader = threading.Thread(target=self._read, name="ictus-show-link", daemon=True)
        self._reader.start()
        return self

    def close(self) -> None:
        """Close the child's runner and wait for it to end (kill it if it does not)."""
        self._closing = True
        self._unpin()
        proc = self._proc
        if proc is None:
            return
        if self._reader is None:
            proc.terminate()  # still starting (or failed to): nothing to close politely
        elif proc.poll() is None and self._lost is None and self._conn is not None:
            with contextlib.suppress(IctusError, OSError, EOFError):
                self._request(Close(), timeout=CLOSE_TIMEOUT)
        try:
            proc.wait(CLOSE_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._conn is not None:
            self._conn.close()
        if self._reader is not None:
            self._reader.join(2.0)

    def _unpin(self) -> None:
        """This process back on the CPUs it had before :meth:`open`."""
        had, self._had_cpus = self._had_cpus, None
        if had is not None:
            rt.pin_threads(had)

    def __enter__(self) -> ShowProcess:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def gone(self) -> bool:
        """Whether the child has ended (for good: the show cannot go on)."""
        return self._lost is not None

    def _why_gone(self) -> str:
        proc = self._proc
        code = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(2.0)
        if code is not None and code < 0:
            how = f"was killed ({signal.Signals(-code).name})"
        elif code is not None:
            how = f"ended (exit {code})"
        else:
            how = "stopped answering"
        return f"the show's audio process {how}: nothing plays"

    # -- talking ---------------------------------------------------------------------------

    def _read(self) -> None:
        """The reader thread: replies to the request waiting, events to listeners."""
        conn = self._conn
        assert conn is not None
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                if not self._closing:
                    self._lost = self._why_gone()
                self._answered.set()
                return
            if isinstance(message, Heard):
                for listener in self._listeners.get(message.serial, ()):
                    with contextlib.suppress(Exception):  # as the engine's Listeners do
                        listener(message.event)
            elif isinstance(message, Reply) and message.number == self._asked:
                self._answer = message
                self._answered.set()

    def _request(self, request: Request, timeout: float | None = None) -> object:
        with self._ask:
            if self._lost is not None:
                raise IctusError(self._lost)
            conn = self._conn
            if conn is None:
                raise IctusError("the show's audio process is not open")
            self._answered.clear()
            self._answer = None
            self._asked += 1
            try:
                conn.send(Ask(self._asked, request))
            except OSError:
                raise IctusError(self._lost or self._why_gone()) from None
            if not self._answered.wait(timeout):
                raise IctusError("the show's audio process does not answer")
            answer = self._answer
            if answer is None:
                raise IctusError(self._lost or "the show's audio process ended")
            if answer.error is not None:
                raise answer.error
            return answer.value

    def _control(self, request: Request) -> object:
        value = self._request(request)
        self._fresh_until = 0.0  # the next look sees what it did
        return value

    # -- the runner's controls ---------------------------------------------------------------

    def act(self, control: Control) -> None:
        self._control(Act(control))

    def go(self) -> None:
        self._control(Act(Control.GO))

    def next(self) -> None:
        self._control(Act(Control.NEXT))

    def previous(self) -> None:
        self._control(Act(Control.PREVIOUS))

    def stop(self) -> None:
        self._control(Act(Control.STOP))

    def release(self) -> None:
        self._control(Act(Control.RELEASE))

    def vamp(self, label: str | None = None) -> str:
        return str(self._control(Vamp(label)))

    def jump(self, target: int | str) -> None:
        self._control(Jump(target))

    def locate(self, target: int | str) -> None:
        self._control(Locate(target))

    def cue(self, index: int) -> None:
        self._control(Cue(index))

    # -- what is going on ------------------------------------------------------------------

    def look(self) -> Snapshot:
        """The child's latest snapshot: asked for when the last is older than
        :data:`FRESH` (or a control came since); the last one once the child is gone."""
        with self._looking:
            snap = self._snapshot
            if snap is not None and (time.monotonic() < self._fresh_until or self._lost):
                return snap
            try:
                value = self._request(Look())
            except IctusError:
                if snap is None:
                    raise
                return snap
            assert isinstance(value, Snapshot)
            self._snapshot = value
            self._statuses.update(value.engines)
            self._fresh_until = time.monotonic() + FRESH
            return value

    def status(self) -> ShowStatus:
        return self.look().show

    @property
    def failure(self) -> str | None:
        if self._lost is not None:
            return self._lost
        snap = self._snapshot if self._closing else self.look()
        return None if snap is None else snap.failure

    @property
    def finished(self) -> bool:
        return self.status().finished

    def idle(self) -> bool:
        return self.look().idle

    def wait(self, timeout: float | None = None) -> bool:
        """As :meth:`ShowRunner.wait`: until the show has nothing more to play without a
        go; IctusError if the audio failed or the child ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            snap = self.look()
            failure = self.failure
            if failure is not None:
                raise IctusError(failure)
            if snap.idle:
                return True
            time.sleep(0.05)
        return False

    def _view(self, key: SongKey | None) -> SongView | None:
        """One view per song made ready: the web remote tells songs apart by it."""
        if key is None:
            return None
        with self._viewing:
            view = self._views.get(key.serial)
            if view is None:
                song = self.songs[key.index]
                view = SongView(key.index, song, EngineView(self, key, song))
                live = self._live_serials()
                self._views = {s: v for s, v in self._views.items() if s in live}
                self._views[key.serial] = view
            return view

    def _live_serials(self) -> set[int]:
        snap = self._snapshot
        return set() if snap is None else {k.serial for k in snap.loaded}

    @property
    def playing(self) -> SongView | None:
        """The song on the stage (playing, stopped or ended), if any."""
        return self._view(self.look().playing)

    def loaded(self, index: int) -> SongView | None:
        snap = self.look()
        return self._view(next((k for k in snap.loaded if k.index == index), None))

    def engine_status(self, serial: int) -> Status:
        """The status of the engine of song ``serial`` (its last, once dropped)."""
        self.look()
        found = self._statuses.get(serial)
        if found is None:
            raise IctusError("that song is not ready in the show any more")
        return found

    def listen(self, serial: int, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener`` with every event of the engine of song ``serial`` (on the
        reader thread: it must be quick); returns the remover."""
        with self._listening:
            first = serial not in self._listeners
            self._listeners[serial] = (*self._listeners.get(serial, ()), listener)
        if first:
            self._request(Listen(serial))

        def remove() -> None:
            with self._listening:
                rest = tuple(x for x in self._listeners.get(serial, ()) if x is not listener)
                if rest:
                    self._listeners[serial] = rest
                    return
                self._listeners.pop(serial, None)
            with contextlib.suppress(IctusError):
                self._request(Unlisten(serial))

        return remove


# -- the child's side -------------------------------------------------------------------


class Child:
    """The child's runner and its end of the socket: answers requests on the main
    thread (it wakes only when the parent asks), sends events from the engines'
    supervisor threads."""

    def __init__(self, conn: Connection, runner: ShowRunner) -> None:
        self.conn = conn
        self.runner = runner
        self._send_lock = threading.Lock()
        self._serials: dict[int, tuple[Any, int]] = {}  # index -> (LoadedSong, serial)
        self._next = 0
        self._unlisten: dict[int, Callable[[], None]] = {}
        self.closed = False  # the runner, on the parent's Close

    def send(self, message: object) -> None:
        with self._send_lock:
            self.conn.send(message)

    def key(self, loaded: Any) -> SongKey:
        known = self._serials.get(loaded.index)
        if known is None or known[0] is not loaded:
            self._next += 1
            known = (loaded, self._next)
            self._serials[loaded.index] = known
        return SongKey(loaded.index, known[1])

    def snapshot(self) -> Snapshot:
        runner = self.runner
        with runner.lock:
            show = runner.status()
            loaded = [runner.loaded(i) for i in range(len(runner.songs))]
            keys = {self.key(s): s for s in loaded if s is not None}
            playing = runner.playing
            backend = runner.stage.backend
            return Snapshot(
                show=show,
                failure=runner.failure or backend.failure,
                xruns=backend.xruns,
                idle=runner.idle(),
                playing=None if playing is None else self.key(playing),
                loaded=tuple(keys),
                engines={k.serial: s.engine.status() for k, s in keys.items()},
                taken=time.monotonic(),
            )

    def listen(self, serial: int) -> None:
        found = next(
            (s for s, n in self._serials.values() if n == serial and s is not None), None
        )
        if found is None or serial in self._unlisten:
            return

        def forward(event: Event) -> None:  # an engine's supervisor thread
            detail = event.detail
            if not isinstance(detail, str | int | float | type(None)):
                event = Event(
                    event.kind, event.clock, event.frame, event.bar, event.beat,
                    event.section, str(detail), event.level,
                )
            with contextlib.suppress(OSError):
                self.send(Heard(serial, event))

        self._unlisten[serial] = found.engine.add_listener(forward)

    def answer(self, request: Request) -> object:
        runner = self.runner
        match request:
            case Act(control):
                runner.act(control)
            case Vamp(label):
                return runner.vamp(label)
            case Jump(target):
                runner.jump(target)
            case Locate(target):
                runner.locate(target)
            case Cue(index):
                runner.cue(index)
            case Look():
                return self.snapshot()
            case Listen(serial):
                self.listen(serial)
            case Unlisten(serial):
                remove = self._unlisten.pop(serial, None)
                if remove is not None:
                    remove()
        return None

    def serve(self) -> None:
        """Answer requests until Close or the parent's end of the socket closes."""
        while True:
            try:
                ask = self.conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            assert isinstance(ask, Ask)
            if isinstance(ask.request, Close):
                self.runner.close()
                self.closed = True
                with contextlib.suppress(OSError):
                    self.send(Reply(ask.number))
                return
            try:
                reply = Reply(ask.number, self.answer(ask.request))
            except Exception as err:  # the runner refused: the parent raises it
                reply = Reply(ask.number, error=portable(err))
            try:
                self.send(reply)
            except OSError:
                return


def portable(err: BaseException) -> BaseException:
    """``err`` if it survives pickling (IctusError and its kinds do), else an
    IctusError with its message."""
    try:
        back = pickle.loads(pickle.dumps(err))
    except Exception:
        return IctusError(str(err) or repr(err))
    return back if isinstance(back, BaseException) else IctusError(str(err))


class _Stopped(BaseException):
    """SIGTERM in the child (the parent died, or someone asked): not an Exception, so
    no handler of a request takes it for the runner's refusal."""


def _die_with_parent(parent: int) -> None:
    """SIGTERM when the parent dies (Linux); ended at once if it has died already."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)


def _stop(_signum: int, _frame: Any) -> None:
    raise _Stopped


def serve(fd: int) -> int:
    """The child: read :class:`Start`, open the runner, answer until closed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, _stop)
    conn = Connection(fd)
    runner: ShowRunner | None = None
    try:
        try:
            start = conn.recv()
            assert isinstance(start, Start)
            _die_with_parent(start.parent)
            backend, midi = start.audio.make()
            # on a real clock only: a backend that runs as fast as it can (the null
            # backend) would take the one CPU from the stem readers for good
            cpus = start.cpus if backend.realtime else None
            if cpus is not None:  # every thread so far; those started later inherit it
                rt.pin_threads(cpus)
            runner = ShowRunner(
                start.show, backend, midi=midi, start=start.start, read_ahead=start.read_ahead
            )
            runner.open()
            start.audio.connect_midi(midi)
        except Exception as err:  # no JACK, a port not found, a song that cannot load
            conn.send(Failed(portable(err)))
            return 1
        conn.send(Ready(backend.describe(), cpus is not None))
        child = Child(conn, runner)
        child.serve()
        if child.closed:
            runner = None
        return 0
    except (_Stopped, EOFError, OSError):
        return 0
    finally:
        # stopping already: a SIGTERM now (the parent closing) must not cut the close
        # short; whatever happens next, this process ends soon (a JACK call that hangs)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        timer = threading.Timer(CLOSE_TIMEOUT, os._exit, (3,))
        timer.daemon = True
        timer.start()
        if runner is not None:
            with contextlib.suppress(Exception):
                runner.close()


if __name__ == "__main__":
    # run as the module pickle knows (``-m`` makes this one ``__main__``: its classes
    # would not be the ones the parent's messages name)
    from ictus.show import process

    sys.exit(process.serve(int(sys.argv[1])))

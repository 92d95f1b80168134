"""Commands of the live area, in its own app (:data:`app`): ``ictus play`` (the live
engine) and ``ictus devices`` (where it can play)."""

# no ``from __future__ import annotations``: Typer reads the option annotations, which
# name the shared options of ictus.cli.options
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from ictus.cli import options as m
from ictus.cli.common import UsageError  # option mistakes exit 2
from ictus.cli.webflags import WebHostOpt, WebOpt, WebPortOpt

if TYPE_CHECKING:
    from ictus.cli.follow import FollowSettings
    from ictus.engine import AudioInput, Engine, EventOutput, Follower, Route
    from ictus.render import Overs
    from ictus.tempomap import TempoMap

BACKEND_NAMES = ("jack", "portaudio", "null")


def parse_latency(text: str) -> list[float]:
    """``-12.5`` or ``-10,0``: milliseconds, one for all click channels or one each.

    >>> parse_latency("-12.5"), parse_latency("-10, 0")
    ([-12.5], [-10.0, 0.0])
    """
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(
            f"--latency: expected milliseconds such as -12.5 or -10,0, got {text!r}"
        ) from None
    if not values or any(not -2000 <= v <= 2000 for v in values):
        raise UsageError(f"--latency: each value must be -2000..2000 ms, got {text!r}")
    return values


def parse_connect(text: str) -> str | list[str]:
    """``auto``, ``none`` or ports/clients separated by commas.

    >>> parse_connect("auto"), parse_connect("rec:in_1, rec:in_2"), parse_connect("system")
    ('auto', ['rec:in_1', 'rec:in_2'], ['system'])
    """
    value = text.strip()
    if value in ("auto", "none"):
        return value
    items = [x.strip() for x in value.split(",") if x.strip()]
    if not items:
        raise UsageError("--connect: give auto, none, or JACK ports/clients")
    return items


def nowhere_to_play(reason: str, backend: str, picked: bool) -> str:
    """The error of a backend that would not open, with what was tried and what to do.

    ``picked``: the backend was picked by ictus (no ``--backend``, no ``$ICTUS_BACKEND``):
    PortAudio is picked only after no JACK server answered, so both were tried.

    >>> print(nowhere_to_play("PortAudio found no output device", "portaudio", True))
    nowhere to play: no JACK server (the default one) is running, and PortAudio found no \
output device; see 'ictus devices', start a JACK server (jackd, or PipeWire's JACK), or \
try the display without sound: --backend null
    """
    what = "see 'ictus devices'"
    if backend == "null":
        return reason
    if picked and backend == "portaudio":
        from ictus.engine.backends.jack import server_words

        reason = f"no JACK server {server_words(None)} is running, and {reason}"
    if backend == "portaudio" or picked:
        what += ", start a JACK server (jackd, or PipeWire's JACK)"
    return f"nowhere to play: {reason}; {what}, or try the display without sound: --backend null"


def osc_settings(
    port: int | None, host: str | None, send: str | None
) -> tuple[int | None, str, list[tuple[str, int]]]:
    """Check ``--osc``, ``--osc-host`` and ``--osc-send`` (usage mistakes exit 2).

    >>> osc_settings(9000, None, "127.0.0.1:9001")
    (9000, '127.0.0.1', [('127.0.0.1', 9001)])
    """
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--osc: a UDP port is 0..65535 (0: any free one), got {port}")
    if host is not None and port is None:
        raise UsageError("--osc-host needs --osc PORT")
    if not send:
        return port, host or "127.0.0.1", []
    from ictus.remote.osc import parse_targets

    return port, host or "127.0.0.1", parse_targets(send)


def open_osc(
    engine: Any, settings: tuple[int | None, str, list[tuple[str, int]]], quiet: bool
) -> Any:
    """The OSC remote of ``--osc``/``--osc-send``, open (None when neither was given)."""
    port, host, targets = settings
    if port is None and not targets:
        return None
    from ictus.remote import OscRemote

    remote = OscRemote(engine, port=port, host=host, send_to=targets).open()
    if not quiet and port is not None:
        where = ":".join(str(x) for x in remote.address)
        sys.stderr.write(f"ictus: OSC control on {where}\n")
    return remote


def ltc_track(
    ltc: str | None, fps: str | None, start_tc: str | None, tempo_map: Any, channels: int
) -> Any:
    """The :class:`~ictus.engine.Route` of ``--ltc CH[,CH]`` (None without it): LTC at
    ``--ltc-fps`` (default: the rate of the map's ``start:``), bar 1 labelled
    ``--start-tc`` (default: the map's ``start:``, else 00:00:00:00).

    >>> from ictus.formats import parse_click
    >>> route = ltc_track("3,4", "25", "10:00:00:00", parse_click("a: 2 4/4 120"), 4)
    >>> route.to, route.source.fps.name, route.source.start
    ((2, 3), '25', '10:00:00:00')
    """
    if ltc is None:
        if fps is not None or start_tc is not None:
            raise UsageError("--ltc-fps and --start-tc need --ltc CH[,CH]")
        return None
    from ictus.cli.common import parse_int_list
    from ictus.engine import Route
    from ictus.engine.timecode import LtcTrack
    from ictus.errors import ParameterError
    from ictus.sync import LTC_RATES
    from ictus.timebase import parse_rate

    outputs = parse_int_list(ltc, "--ltc")
    bad = [c for c in outputs if not 1 <= c <= channels]
    if not outputs or bad or len(set(outputs)) != len(outputs):
        raise UsageError(f"--ltc: expected distinct outputs of 1..{channels}, got {ltc!r}")
    start = tempo_map.start
    if fps is None:
        if start is None:
            raise UsageError("--ltc needs --ltc-fps FPS (the map has no start: timecode)")
        rate = start.rate
    else:
        rate = parse_rate(fps)
    if rate not in LTC_RATES:
        names = ", ".join(r.name for r in LTC_RATES)
        raise UsageError(f"--ltc-fps: LTC runs at {names}, got {rate.name}")
    if start_tc is not None:
        label: Any = start_tc
    elif start is not None and start.rate != rate:
        raise UsageError(
            f"the map starts at {start} ({start.rate.name} fps), the LTC runs at "
            f"{rate.name} fps: give --start-tc"
        )
    else:
        label = start if start is not None else 0
    try:
        track = LtcTrack(rate, label, channels=len(outputs))
    except ParameterError as err:
        raise UsageError(f"--start-tc: {err}") from None
    return Route(track, tuple(c - 1 for c in outputs))


def click_beside(click: tuple[int, ...], ltc: tuple[int, ...], asked: bool) -> tuple[int, ...]:
    """The click's outputs next to LTC's: all the others unless ``--click-on`` said.

    >>> click_beside((0, 1, 2, 3), (3,), False)
    (0, 1, 2)
    """
    if asked:
        shared = sorted(set(click) & set(ltc))
        if shared:
            raise UsageError(f"output {shared[0] + 1} cannot carry both the click and LTC")
        return click
    rest = tuple(c for c in click if c not in ltc)
    if not rest:
        raise UsageError("LTC takes every output: add one for the click (--channels)")
    return rest


def osc_rows(remote: Any) -> Any:
    """The display's OSC line (None without a remote)."""
    if remote is None:
        return None
    return lambda: [("osc", remote.summary())]


# -- what groups of flags attach to the engine --------------------------------------------


class Opened(NamedTuple):
    """A remote open beside the engine (see :attr:`Attachments.remotes`)."""

    close: Callable[[], None]  #: called after the engine closed: its last events go out
    report: Callable[[], None]  #: after a normal end: messages about what it saw
    rows: Callable[[], Sequence[tuple[str, str]]] | None = None  #: lines for the display


#: Opens a remote on the engine once the engine is open (None: nothing to open).
RemoteOpener = Callable[["Engine"], Opened | None]


@dataclass(frozen=True)
class Attachments:
    """What a group of ``ictus play`` flags adds to the engine.

    Each group of flags has one function that checks its values and returns one of
    these (empty when its flags were not given); :func:`play` adds them up. ``sources``,
    ``event_outputs`` and ``followers`` go to :class:`~ictus.engine.Engine` as they are;
    ``remotes`` are opened after the engine opened and closed after it closed.

    >>> (Attachments() + Attachments(sources=("ltc",))).sources
    ('ltc',)
    """

    sources: tuple["Route", ...] = ()
    event_outputs: tuple["EventOutput", ...] = ()
    followers: tuple["Follower", ...] = ()
    remotes: tuple[RemoteOpener, ...] = ()
    inputs: tuple["AudioInput", ...] = ()  # what hears the backend's inputs (a take)

    def __add__(self, other: "Attachments") -> "Attachments":
        return Attachments(
            sources=self.sources + other.sources,
            event_outputs=self.event_outputs + other.event_outputs,
            followers=self.followers + other.followers,
            remotes=self.remotes + other.remotes,
            inputs=self.inputs + other.inputs,
        )

    def outputs_taken(self) -> tuple[int, ...]:
        """The audio outputs (from 0) the sources play on: the click stays off them.

        >>> Attachments().outputs_taken()
        ()
        """
        return tuple(c for route in self.sources for c in route.to)


def ltc_flags(
    ltc: str | None, fps: str | None, start_tc: str | None, tempo_map: "TempoMap", channels: int
) -> Attachments:
    """``--ltc``, ``--ltc-fps``, ``--start-tc``: an LTC source (see :func:`ltc_track`)."""
    route = ltc_track(ltc, fps, start_tc, tempo_map, channels)
    return Attachments(sources=(route,) if route is not None else ())


def osc_flags(port: int | None, host: str | None, send: str | None, quiet: bool) -> Attachments:
    """``--osc``, ``--osc-host``, ``--osc-send``: an OSC remote (see :func:`osc_settings`).

    >>> osc_flags(None, None, None, False)
    Attachments(sources=(), event_outputs=(), followers=(), remotes=(), inputs=())
    """
    settings = osc_settings(port, host, send)
    if settings[0] is None and not settings[2]:
        return Attachments()

    def open_remote(engine: "Engine") -> Opened | None:
        remote = open_osc(engine, settings, quiet)
        if remote is None:
            return None

        def report() -> None:
            c = remote.counts
            if not quiet and c.ignored:
                sys.stderr.write(
                    f"ictus: OSC: ignored {c.ignored} message(s) ({c.malformed} malformed, "
                    f"{c.unknown} unknown, {c.refused} refused)\n"
                )

        return Opened(close=remote.close, report=report, rows=osc_rows(remote))

    return Attachments(remotes=(open_remote,))


class SyncSettings(NamedTuple):
    """What ``--midi-out``, ``--midi-clock``, ``--mtc``, ``--start-tc``,
    ``--midi-connect`` and ``--jack-transport`` asked for, checked."""

    midi_out: str | None  # "jack", an ALSA/rtmidi port name, or None
    clock: bool
    mtc: Any  # FrameRate or None
    start_tc: str | None
    midi_connect: list[str]
    jack_transport: str | None  # "master", "follow" or None


def sync_settings(
    midi_out: str | None,
    midi_clock: bool,
    mtc: str | None,
    start_tc: str | None,
    midi_connect: str | None,
    jack_transport: str | None,
) -> SyncSettings:
    """Check the sync options (usage mistakes exit 2).

    >>> s = sync_settings("jack", True, "29.97", "01:00:00;00", None, "master")
    >>> s.midi_out, s.clock, s.mtc.name, s.jack_transport
    ('jack', True, '29.97df', 'master')
    >>> sync_settings(None, True, None, None, None, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ictus.cli.common.UsageError: --midi-clock and --mtc send on a MIDI output: add ...
    """
    from ictus.errors import ParameterError

    rate: Any = None
    if mtc is not None:
        from ictus.sync import MTC_RATES
        from ictus.timebase import parse_rate

        try:
            rate = parse_rate(mtc)
        except ParameterError:
            rate = None
        if rate not in MTC_RATES:
            raise UsageError(f"--mtc: choose 24, 25, 29.97, 29.97ndf or 30, got {mtc!r}")
    if (midi_clock or rate is not None) and midi_out is None:
        raise UsageError(
            "--midi-clock and --mtc send on a MIDI output: add --midi-out jack (or a port name)"
        )
    if midi_out is not None and not (midi_clock or rate is not None):
        raise UsageError("--midi-out: say what to send on it: --midi-clock and/or --mtc FPS")
    if start_tc is not None and rate is not None:
        from ictus.timebase import parse_timecode

        try:
            parse_timecode(start_tc, rate)
        except ParameterError as err:
            raise UsageError(f"--start-tc: {err}") from None
    if jack_transport not in (None, "master", "follow"):
        raise UsageError(f"--jack-transport: choose master or follow, got {jack_transport!r}")
    connect = [x.strip() for x in (midi_connect or "").split(",") if x.strip()]
    if connect and midi_out != "jack":
        raise UsageError("--midi-connect needs --midi-out jack")
    return SyncSettings(midi_out, midi_clock, rate, start_tc, connect, jack_transport)


class JackSlot:
    """The engine's JACK client as the sync outputs see it, filled in by the backend's
    ``on_client`` hook each time it opens a client (again after a reconnect): its
    client, its MIDI ports, its rate."""

    def __init__(self) -> None:
        self.client: Any = None
        self.ports: dict[str, Any] = {}

    def bind(self, client: Any) -> None:
        self.client = client
        self.ports = {p.shortname: p for p in client.midi_outports}  # registered already

    def midi_port(self, name: str) -> Any:
        return self.ports[name]

    @property
    def rate(self) -> int:
        return int(self.client.samplerate) if self.client is not None else 0


def _check_sync_backend(sync: SyncSettings, backend: str) -> None:
    """JACK MIDI and the JACK transport need the JACK backend (a usage mistake)."""
    if backend != "jack":
        if sync.midi_out == "jack":
            raise UsageError("--midi-out jack needs --backend jack")
        if sync.jack_transport is not None:
            raise UsageError("--jack-transport needs --backend jack")


def sync_flags(
    sync: SyncSettings, backend: str, tempo_map: "TempoMap"
) -> tuple[Attachments, dict[str, Any]]:
    """``--midi-out``, ``--midi-clock``, ``--mtc``, ``--start-tc``, ``--midi-connect``,
    ``--jack-transport``: the event outputs and followers, and the JACK backend's
    options they need (a MIDI port on ictus's own client, its connections, the
    timebase callback).

    >>> s = sync_settings(None, False, None, None, None, None)
    >>> sync_flags(s, "null", None)
    (Attachments(sources=(), event_outputs=(), followers=(), remotes=(), inputs=()), {})
    """
    _check_sync_backend(sync, backend)
    if sync.midi_out is None and sync.jack_transport is None:
        return Attachments(), {}
    from ictus.engine import sync_outputs as so

    slot = JackSlot()
    options: dict[str, Any] = {}
    outputs: list[Any] = []
    followers: list[Any] = []
    if backend == "jack":
        options["on_client"] = slot.bind
    if sync.midi_out is not None:
        sink: Any
        if sync.midi_out == "jack":
            options["midi_outputs"] = ("midi_out",)
            options["midi_connect"] = {"midi_out": sync.midi_connect}
            sink = so.JackMidiSink(slot, "midi_out")
        else:
            sink = so.RtMidiSink(sync.midi_out, lambda: slot.rate or 48000)
        outputs.append(so.MidiSyncOutput(sink, clock=sync.clock, mtc=sync.mtc, start=sync.start_tc))
    if sync.jack_transport == "master":
        master = so.JackTransportMaster(slot)
        options["timebase"] = master.timebase
        outputs.append(master)
    elif sync.jack_transport == "follow":
        followers.append(so.JackTransportFollower(slot, tempo_map))

    def report_failures(engine: "Engine") -> Opened | None:
        def report() -> None:
            if engine.output_errors:
                failed = engine.status().output_failure
                sys.stderr.write(f"ictus: a sync output failed: {failed}\n")

        return Opened(close=lambda: None, report=report)

    attached = Attachments(
        event_outputs=tuple(outputs), followers=tuple(followers), remotes=(report_failures,)
    )
    return attached, options
def follow_flags(
    settings: "FollowSettings",
    tempo_map: "TempoMap",
    from_label: str | None,
    from_bar: int | None,
    backend: str,
    device: str | None,
    client_name: str,
) -> Attachments:
    """``--link``, ``--link-quantum``, ``--follow``, ``--midi-in``, ``--ltc-in``
    (see :mod:`ictus.cli.follow` and docs/FOLLOW.md)."""
    from ictus.cli.follow import follow_parts

    parts = follow_parts(settings, tempo_map, from_label, from_bar, backend, device, client_name)
    bind = parts.bind
    if bind is None:
        return Attachments(event_outputs=parts.event_outputs, followers=parts.followers)

    def open_binding(engine: "Engine") -> Opened:
        return Opened(close=bind(engine), report=lambda: None)

    return Attachments(
        event_outputs=parts.event_outputs, followers=parts.followers, remotes=(open_binding,)
    )


def web_flags(web: bool, host: str | None, port: int | None, quiet: bool) -> Attachments:
    """``--web``, ``--web-host``, ``--web-port``: the web remote and visual metronome.

    >>> web_flags(False, None, None, False)
    Attachments(sources=(), event_outputs=(), followers=(), remotes=(), inputs=())
    """
    from ictus.cli.webflags import check_web_flags, start_web

    where = check_web_flags(web, host, port)
    if where is None:
        return Attachments()

    def open_remote(engine: "Engine") -> Opened | None:
        server = start_web(engine, where, quiet=quiet)

        def rows() -> list[tuple[str, str]]:
            return [("web", server.url())]

        return Opened(close=server.stop, report=lambda: None, rows=rows)

    return Attachments(remotes=(open_remote,))


# -- the play itself ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlaySettings:
    """The checked values of ``ictus play``'s click and transport flags."""

    map_file: str
    tempo_map: "TempoMap"
    channels: int
    click_on: tuple[int, ...]
    latency_ms: list[float] | None
    gains: dict[str, float] | None
    overs: "Overs"
    sound: str | None
    sound_file: str | None
    count_in_sound: str | None
    from_label: str | None
    from_bar: int | None
    loop: str | None
    reconnect: bool
    sample_rate: int | None
    quiet: bool
    interactive: bool  # stdin is a terminal: the live display, else play once
    start: bool = True  # the transport starts by itself (False: a follower starts it)


class BackendChoice(NamedTuple):
    """The backend to play on, its options, and whether ictus picked it."""

    name: str
    options: dict[str, Any]
    picked: bool  # no --backend, no $ICTUS_BACKEND: see nowhere_to_play


def click_outputs(channels: int, click_on: str | None, taken: tuple[int, ...]) -> tuple[int, ...]:
    """The outputs (from 0) of the click: ``--click-on``, else all, less the ``taken`` ones.

    A ``--click-on`` naming no output (``""``, an unset shell variable) is refused: the
    engine could play with the click on no output, or read it as "all", and neither is
    what was typed (``ictus show`` is where a click-less routing belongs).

    >>> click_outputs(4, None, (3,)), click_outputs(4, "1,2", (3,))
    ((0, 1, 2), (0, 1))
    """
    from ictus.cli.common import parse_int_list
    from ictus.render import parse_channels

    asked = parse_int_list(click_on, "--click-on") if click_on is not None else None
    if asked == []:
        raise UsageError(
            f"--click-on names no output: give outputs 1..{channels} (leave it out for all)"
        )
    targets = parse_channels(channels, asked)
    if not taken:
        return targets
    return click_beside(targets, taken, click_on is not None)


def start_label(loop: str | None, from_label: str | None, from_bar: int | None) -> str | None:
    """Where play starts: ``--from-label``, else the section of ``--loop`` alone.

    >>> start_label("verse", None, None), start_label("verse", None, 5)
    ('verse', None)
    """
    if loop is not None and from_label is None and from_bar is None:
        return loop  # --loop alone: start at the section it repeats
    return from_label


def choose_backend(
    backend: str | None,
    device: str | None,
    client_name: str,
    connect: str,
    period: int,
    sample_rate: int | None,
    interactive: bool,
) -> BackendChoice:
    """``--backend`` and its options: the one asked for, else the default one."""
    if period < 0 or period > 8192:
        raise UsageError(f"--period must be 0..8192 frames, got {period}")
    name = backend or None
    if name is not None and name not in BACKEND_NAMES:
        raise UsageError(f"--backend: choose one of {', '.join(BACKEND_NAMES)}, got {name!r}")
    from ictus.engine.backends import default_backend

    asked_for = name or os.environ.get("ICTUS_BACKEND", "").strip() or None
    name = name or default_backend()
    options: dict[str, Any] = {}
    if name == "jack":
        options = {"client_name": client_name, "connect": parse_connect(connect), "server": device}
    elif name == "portaudio":
        options = {"device": device, "period": period}
    elif name == "null":
        options = {
            "rate": sample_rate or 48000,
            "period": period or 256,
            "driver": "paced" if interactive else "fast",
        }
    return BackendChoice(name, options, asked_for is None)


def make_engine(settings: PlaySettings, audio: Any, extras: Attachments) -> "Engine":
    """The engine of ``settings`` on ``audio``, with what the flag groups attach."""
    from ictus.cli import common
    from ictus.engine import Engine
    from ictus.render import FLOAT, check_headroom
    from ictus.tempomap import build_grid

    s = settings
    whole = build_grid(s.tempo_map, start_label=s.from_label, start_bar=s.from_bar)

    def voice(rate: int) -> Any:
        # made once the backend's rate is known: warn, fit or refuse before a sound
        chosen = common.load_voice_for(s.sound, s.sound_file, rate, s.count_in_sound)
        return check_headroom(
            whole, chosen, rate=rate, coding=FLOAT, overs=s.overs, gains=s.gains,
            target="the live output",
        )

    return Engine(
        s.tempo_map,
        audio,
        voice=voice,
        channels=s.channels,
        click_on=s.click_on,
        gains=s.gains,
        latency_ms=s.latency_ms,
        start_label=s.from_label,
        start_bar=s.from_bar,
        loop=s.loop,
        reconnect=s.reconnect,
        rate=s.sample_rate,
        event_outputs=list(extras.event_outputs),
        sources=list(extras.sources),
        followers=list(extras.followers),
        inputs=list(extras.inputs),
    )


def stop_on_sigterm() -> None:
    """SIGTERM (a show controller, systemd) ends play as cleanly as Ctrl-C."""
    import signal

    def stop_playing(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_playing)


def open_engine(engine: "Engine", choice: BackendChoice) -> None:
    """Open the engine's backend; nowhere to play is a one-line error."""
    from ictus.engine import BackendError
    from ictus.engine.backends import NoOutput

    try:
        engine.open()
    except NoOutput as err:
        raise BackendError(nowhere_to_play(str(err), choice.name, choice.picked)) from None


def open_remotes(engine: "Engine", openers: Sequence[RemoteOpener]) -> list[Opened]:
    """Open the remotes on the open engine; if one fails, close all (and the engine)."""
    opened: list[Opened] = []
    try:
        for opener in openers:
            remote = opener(engine)
            if remote is not None:
                opened.append(remote)
    except BaseException:
        engine.close()
        for remote in opened:
            remote.close()
        raise
    return opened


def display_rows(remotes: Sequence[Opened]) -> Callable[[], list[tuple[str, str]]] | None:
    """The display's lines of the remotes (None when none has any).

    >>> display_rows([]) is None
    True
    """
    rows = [r.rows for r in remotes if r.rows is not None]
    if not rows:
        return None
    return lambda: [row for lines in rows for row in lines()]


def run_until_done(settings: PlaySettings, engine: "Engine", remotes: Sequence[Opened]) -> Any:
    """Start, then show the display (a terminal) or wait for the end; Ctrl-C exits 130."""
    try:
        if not settings.quiet and not settings.interactive:
            sys.stderr.write(
                f"ictus: playing {settings.map_file} on {engine.backend.describe()}\n"
            )
        if settings.start and not engine.followers:  # a follower starts it
            engine.start()
        if settings.interactive:
            from ictus.cli import display

            return display.run(engine, extra=display_rows(remotes))
        return engine.wait()
    except KeyboardInterrupt:
        engine.close()
        for remote in remotes:
            remote.close()
        raise typer.Exit(130) from None


def play_live(settings: PlaySettings, choice: BackendChoice, extras: Attachments) -> None:
    """Open the backend, play, close, and say how it went (exit codes as errors)."""
    from ictus.engine import BackendError, State, make_backend

    audio = make_backend(choice.name, **choice.options)
    engine = make_engine(settings, audio, extras)
    stop_on_sigterm()
    open_engine(engine, choice)
    remotes = open_remotes(engine, extras.remotes)
    outcome = run_until_done(settings, engine, remotes)
    failure = engine.failure
    engine.close()
    for remote in remotes:
        remote.close()  # after the engine: its last events still go out
        remote.report()
    if outcome == State.OFFLINE:
        hint = "; use --reconnect to wait for it" if choice.name == "jack" else ""
        raise BackendError(f"{failure}{hint}")
    if not settings.quiet and not settings.interactive and audio.xruns:
        sys.stderr.write(f"ictus: {audio.xruns} xrun(s) while playing\n")


# -- the flags of ictus play (the shared ones are in ictus.cli.options) --------------------

BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        "-b",
        metavar="jack|portaudio|null",
        help="Audio backend (default $ICTUS_BACKEND, else jack if a JACK server "
        "runs, else portaudio).",
    ),
]
DeviceOpt = Annotated[
    str | None,
    typer.Option(
        "--device",
        "-d",
        help="PortAudio: device index or name (see 'ictus devices'); JACK: server name.",
    ),
]
ClientNameOpt = Annotated[
    str, typer.Option("--client-name", help="JACK client name (ports NAME:out_1...).")
]
ConnectOpt = Annotated[
    str,
    typer.Option(
        "--connect",
        metavar="auto|none|PORT,...",
        help="JACK: connect out_1, out_2... to these ports or clients "
        "(auto: the physical outputs).",
    ),
]
ChannelsOpt = Annotated[int, typer.Option("--channels", "-c", help="Number of outputs.")]
PlayClickOnOpt = Annotated[
    str | None,
    typer.Option("--click-on", metavar="CH,...", help="Outputs (from 1) that carry the click."),
]
LatencyOpt = Annotated[
    str | None,
    typer.Option(
        "--latency",
        metavar="MS[,MS...]",
        help="Offset per click output in ms (one for all, or one per --click-on "
        "channel); negative plays early to make up for a slow in-ear system.",
    ),
]
LoopOpt = Annotated[
    str | None,
    typer.Option(
        "--loop",
        metavar="LABEL",
        help="Repeat this section (starting there unless --from-* says otherwise).",
    ),
]
ReconnectOpt = Annotated[
    bool,
    typer.Option("--reconnect", help="If the JACK server goes away, wait for it and go on."),
]
PeriodOpt = Annotated[
    int,
    typer.Option("--period", help="PortAudio/null: frames per block (0: the device's choice)."),
]
SampleRateOpt = Annotated[
    int | None,
    typer.Option("--sample-rate", "-r", help="Sample rate (JACK: must match the server's)."),
]
OscOpt = Annotated[
    int | None,
    typer.Option(
        "--osc",
        metavar="PORT",
        help="Take OSC control messages on this UDP port (127.0.0.1 unless "
        "--osc-host; see docs/SYNC-OSC.md).",
    ),
]
OscHostOpt = Annotated[
    str | None,
    typer.Option(
        "--osc-host",
        metavar="HOST",
        help="Address the OSC server listens on (0.0.0.0: every interface).",
    ),
]
OscSendOpt = Annotated[
    str | None,
    typer.Option(
        "--osc-send",
        metavar="HOST:PORT[,...]",
        help="Send OSC events (beat, section, cue, state) to these.",
    ),
]
LtcOpt = Annotated[
    str | None,
    typer.Option(
        "--ltc",
        metavar="CH[,CH]",
        help="Put LTC on these outputs (from 1; the click stays off them).",
    ),
]
LtcFpsOpt = Annotated[
    str | None,
    typer.Option(
        "--ltc-fps",
        metavar="FPS",
        help="LTC frame rate: 23.976, 24, 25, 29.97 (drop-frame), 29.97ndf, 30 "
        "(default: the map's start: rate).",
    ),
]
StartTcOpt = Annotated[
    str | None,
    typer.Option(
        "--start-tc",
        metavar="HH:MM:SS:FF",
        help="Timecode of bar 1's downbeat (default: the map's start:, else 0).",
    ),
]
MidiOutOpt = Annotated[
    str | None,
    typer.Option(
        "--midi-out",
        metavar="jack|PORT",
        help="MIDI output for --midi-clock/--mtc: jack (a port on ictus's own JACK "
        "client, every message on its sample) or an ALSA/rtmidi port name.",
    ),
]
MidiClockOpt = Annotated[
    bool, typer.Option("--midi-clock", help="Send MIDI clock (24 a quarter note).")
]
MtcOpt = Annotated[
    str | None,
    typer.Option("--mtc", metavar="FPS", help="Send MIDI Time Code: 24, 25, 29.97, 29.97ndf, 30."),
]
MidiConnectOpt = Annotated[
    str | None,
    typer.Option(
        "--midi-connect",
        metavar="PORT,...",
        help="JACK: connect the MIDI output to these ports or clients.",
    ),
]
JackTransportOpt = Annotated[
    str | None,
    typer.Option(
        "--jack-transport",
        metavar="master|follow",
        help="JACK transport: publish bar/beat/tempo as timebase master, or follow "
        "another application's start, stop and locate.",
    ),
]
LinkOpt = Annotated[
    bool, typer.Option("--link", help="Join Ableton Link and lead it (docs/FOLLOW.md).")
]
LinkQuantumOpt = Annotated[
    str | None,
    typer.Option(
        "--link-quantum",
        metavar="N",
        help="Link quantum in quarters (default: the start bar's length).",
    ),
]
FollowOpt = Annotated[
    str | None,
    typer.Option(
        "--follow",
        metavar="link|ltc|mtc|midi-clock",
        help="Let this source move the transport (docs/FOLLOW.md).",
    ),
]
MidiInOpt = Annotated[
    str | None,
    typer.Option(
        "--midi-in",
        metavar="PORT",
        help="--follow mtc|midi-clock: the JACK MIDI port to read (none: connect later).",
    ),
]
LtcInOpt = Annotated[
    int | None,
    typer.Option("--ltc-in", metavar="CH", help="--follow ltc: JACK input (from 1)."),
]
PlayQuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No messages.")]

app = m.area()


@app.command()
def play(
    map_file: m.MapArg,
    backend: BackendOpt = None,
    device: DeviceOpt = None,
    client_name: ClientNameOpt = "ictus",
    connect: ConnectOpt = "auto",
    channels: ChannelsOpt = 2,
    click_on: PlayClickOnOpt = None,
    latency: LatencyOpt = None,
    loop: LoopOpt = None,
    reconnect: ReconnectOpt = False,
    period: PeriodOpt = 0,
    sample_rate: SampleRateOpt = None,
    sound: m.SoundOpt = None,
    sound_file: m.SoundFileOpt = None,
    gain: m.GainOpt = None,
    count_in_sound: m.CountInSoundOpt = None,
    overs: m.OversOpt = "warn",
    source_format: m.FromOpt = None,
    scale: m.ScaleOpt = None,
    count_in: m.CountInOpt = None,
    from_label: m.FromLabelOpt = None,
    from_bar: m.FromBarOpt = None,
    click_unit: m.ClickUnitOpt = None,
    bars: m.BarsOpt = None,
    gap: m.GapOpt = None,
    seed: m.SeedOpt = None,
    speed_trainer: m.SpeedTrainerOpt = None,
    osc: OscOpt = None,
    osc_host: OscHostOpt = None,
    osc_send: OscSendOpt = None,
    ltc: LtcOpt = None,
    ltc_fps: LtcFpsOpt = None,
    start_tc: StartTcOpt = None,
    midi_out: MidiOutOpt = None,
    midi_clock: MidiClockOpt = False,
    mtc: MtcOpt = None,
    midi_connect: MidiConnectOpt = None,
    jack_transport: JackTransportOpt = None,
    link: LinkOpt = False,
    link_quantum: LinkQuantumOpt = None,
    follow: FollowOpt = None,
    midi_in: MidiInOpt = None,
    ltc_in: LtcInOpt = None,
    web: WebOpt = False,
    web_host: WebHostOpt = None,
    web_port: WebPortOpt = None,
    quiet: PlayQuietOpt = False,
) -> None:
    """Play the click of MAP live, sample for sample what 'ictus render' writes.

    With a terminal it shows a live display (space start/stop, arrows move a bar,
    +/- tempo, t tap, T tap and show the BPM, l loop, q quit); without one (stdin not
    a terminal) it plays the map once and exits at its end.

    Examples:

      ictus play song.click

      ictus play song.click --backend jack --connect system:playback_3,system:playback_4

      ictus play show.klick -c 8 --click-on 7,8 --latency=-4 --from-label chorus

      ictus play song.click --backend portaudio --device "USB Audio" --scale 90%

      ictus play song.click --loop verse --count-in 1

      ictus play song.click --loop verse --speed-trainer 80+4..120 --gap 3:1

      ictus play song.click --osc 9000 --osc-send 127.0.0.1:9001

      ictus play film.click -c 3 --click-on 1,2 --ltc 3 --ltc-fps 24 --start-tc 01:00:00:00

      ictus play song.click --backend jack --midi-out jack --midi-clock --mtc 25
      ictus play show.click --link          (and on the backup: --follow link)
    """
    from ictus.cli import common
    from ictus.cli.follow import follow_settings
    from ictus.cli.trainer_flags import apply_trainers
    from ictus.render import Overs
    from ictus.sounds import parse_gains

    tempo_map = common.load_map(
        map_file, fmt=source_format, scale=scale, count_in=count_in, click_unit=click_unit,
        bars=bars,
    )
    # a looped speed trainer writes the loop out, faster each time: it moves the start
    # and the loop onto the repetitions
    drilled = apply_trainers(
        tempo_map, gap=gap, seed=seed, speed_trainer=speed_trainer, loop=loop,
        from_label=start_label(loop, from_label, from_bar),
    )
    tempo_map, loop = drilled.tempo_map, drilled.loop
    with common.option_values():
        # a group of flags: one function returning what it attaches (see Attachments)
        # --start-tc labels bar 1 for LTC and MTC alike; with MTC alone it is MTC's
        ltc_start = start_tc if ltc is not None or mtc is None else None
        extras = ltc_flags(ltc, ltc_fps, ltc_start, tempo_map, channels)
        targets = click_outputs(channels, click_on, extras.outputs_taken())
        latency_ms = parse_latency(latency) if latency else None
        gains = parse_gains(gain) if gain else None
        overs_rule = Overs.parse(overs)
        extras += osc_flags(osc, osc_host, osc_send, quiet)
        extras += web_flags(web, web_host, web_port, quiet)
    sync = sync_settings(midi_out, midi_clock, mtc, start_tc, midi_connect, jack_transport)
    following = follow_settings(link, link_quantum, follow, midi_in, ltc_in)
    if sound is not None and sound_file is not None:
        raise UsageError("give --sound or --sound-file, not both")
    settings = PlaySettings(
        map_file=map_file,
        tempo_map=tempo_map,
        channels=channels,
        click_on=targets,
        latency_ms=latency_ms,
        gains=gains,
        overs=overs_rule,
        sound=sound,
        sound_file=sound_file,
        count_in_sound=count_in_sound,
        from_label=drilled.from_label,
        from_bar=from_bar,
        loop=loop,
        reconnect=reconnect,
        sample_rate=sample_rate,
        quiet=quiet,
        interactive=sys.stdin.isatty(),
        start=not following.following,
    )
    choice = choose_backend(
        backend, device, client_name, connect, period, sample_rate, settings.interactive
    )
    with common.option_values():
        synced, jack_options = sync_flags(sync, choice.name, tempo_map)
        extras += follow_flags(
            following, tempo_map, settings.from_label, from_bar, choice.name, device,
            client_name,
        )
    choice = choice._replace(options={**choice.options, **jack_options})
    play_live(settings, choice, extras + synced)


@app.command()
def devices() -> None:
    """List where 'ictus play' can play: backends, PortAudio devices, JACK ports.

    Examples:

      ictus devices

      JACK_DEFAULT_SERVER=stage ictus devices
    """
    from rich.console import Console
    from rich.table import Table

    from ictus.engine import list_outputs

    # piped: wide enough that no name or state is cut or wrapped
    console = Console() if sys.stdout.isatty() else Console(width=200)
    found = {o.backend: o for o in list_outputs()}
    backends = Table("backend", "state", title="backends (--backend NAME)")
    for o in found.values():
        backends.add_row(o.backend, o.state)
    console.print(backends)
    pa = found["portaudio"]
    if pa.outputs:
        table = Table(
            "index",
            "name",
            "host API",
            "outputs",
            "rate",
            "",
            title="PortAudio output devices (--backend portaudio --device INDEX|NAME)",
        )
        for d in pa.outputs:
            table.add_row(
                str(d.index),
                d.name,
                d.detail,
                str(d.channels),
                str(d.rate),
                "default" if d.default else "",
            )
        console.print(table)
    jack = found["jack"]
    if jack.available:
        table = Table(
            "port", "physical", title=f"JACK inputs (--connect PORT,...); {jack.state}"
        )
        for port in jack.outputs:
            table.add_row(port.name, "yes" if port.detail == "physical" else "")
        console.print(table)
    server = os.environ.get("JACK_DEFAULT_SERVER")
    if server:
        console.print(f"JACK server name from JACK_DEFAULT_SERVER: {server}")

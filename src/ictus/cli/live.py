"""Commands of the live area, in its own app (:data:`app`): ``ictus play`` (the live
engine) and ``ictus devices`` (where it can play)."""

# no ``from __future__ import annotations``: Typer reads the option annotations, which
# name the shared options of ictus.cli.options
import os
import sys
from typing import Annotated, Any, NamedTuple

import typer

from ictus.cli import options as m
from ictus.cli.common import UsageError  # option mistakes exit 2

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


def sync_backend_options(sync: SyncSettings, backend: str) -> dict[str, Any]:
    """The JACK backend's options for the sync outputs (a MIDI port, the connections)."""
    if backend != "jack":
        if sync.midi_out == "jack":
            raise UsageError("--midi-out jack needs --backend jack")
        if sync.jack_transport is not None:
            raise UsageError("--jack-transport needs --backend jack")
        return {}
    if sync.midi_out != "jack":
        return {}
    return {"midi_outputs": ("midi_out",), "midi_connect": {"midi_out": sync.midi_connect}}


def sync_hooks(sync: SyncSettings, audio: Any, tempo_map: Any) -> tuple[list[Any], list[Any]]:
    """The engine's event outputs and followers for the sync options."""
    from ictus.engine import sync_outputs as so

    outputs: list[Any] = []
    followers: list[Any] = []
    if sync.midi_out is not None:
        sink: Any
        if sync.midi_out == "jack":
            sink = so.JackMidiSink(audio, "midi_out")
        else:
            sink = so.RtMidiSink(sync.midi_out, lambda: audio.rate)
        outputs.append(so.MidiSyncOutput(sink, clock=sync.clock, mtc=sync.mtc, start=sync.start_tc))
    if sync.jack_transport == "master":
        master = so.JackTransportMaster(audio)
        audio.timebase = master.timebase
        outputs.append(master)
    elif sync.jack_transport == "follow":
        followers.append(so.JackTransportFollower(audio, tempo_map))
    return outputs, followers


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app`` (heavy imports stay inside the commands)."""

    @app.command()
    def play(
        map_file: m.MapArg,
        backend: Annotated[
            str | None,
            typer.Option(
                "--backend",
                "-b",
                metavar="jack|portaudio|null",
                help="Audio backend (default $ICTUS_BACKEND, else jack if a JACK server "
                "runs, else portaudio).",
            ),
        ] = None,
        device: Annotated[
            str | None,
            typer.Option(
                "--device",
                "-d",
                help="PortAudio: device index or name (see 'ictus devices'); JACK: server name.",
            ),
        ] = None,
        client_name: Annotated[
            str, typer.Option("--client-name", help="JACK client name (ports NAME:out_1...).")
        ] = "ictus",
        connect: Annotated[
            str,
            typer.Option(
                "--connect",
                metavar="auto|none|PORT,...",
                help="JACK: connect out_1, out_2... to these ports or clients "
                "(auto: the physical outputs).",
            ),
        ] = "auto",
        channels: Annotated[int, typer.Option("--channels", "-c", help="Number of outputs.")] = 2,
        click_on: Annotated[
            str | None,
            typer.Option(
                "--click-on", metavar="CH,...", help="Outputs (from 1) that carry the click."
            ),
        ] = None,
        latency: Annotated[
            str | None,
            typer.Option(
                "--latency",
                metavar="MS[,MS...]",
                help="Offset per click output in ms (one for all, or one per --click-on "
                "channel); negative plays early to make up for a slow in-ear system.",
            ),
        ] = None,
        loop: Annotated[
            str | None,
            typer.Option(
                "--loop",
                metavar="LABEL",
                help="Repeat this section (starting there unless --from-* says otherwise).",
            ),
        ] = None,
        reconnect: Annotated[
            bool,
            typer.Option(
                "--reconnect", help="If the JACK server goes away, wait for it and go on."
            ),
        ] = False,
        period: Annotated[
            int,
            typer.Option(
                "--period", help="PortAudio/null: frames per block (0: the device's choice)."
            ),
        ] = 0,
        sample_rate: Annotated[
            int | None,
            typer.Option(
                "--sample-rate", "-r", help="Sample rate (JACK: must match the server's)."
            ),
        ] = None,
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
        midi_out: Annotated[
            str | None,
            typer.Option(
                "--midi-out",
                metavar="jack|PORT",
                help="MIDI output for --midi-clock/--mtc: jack (a port on ictus's own JACK "
                "client, every message on its sample) or an ALSA/rtmidi port name.",
            ),
        ] = None,
        midi_clock: Annotated[
            bool, typer.Option("--midi-clock", help="Send MIDI clock (24 a quarter note).")
        ] = False,
        mtc: Annotated[
            str | None,
            typer.Option(
                "--mtc", metavar="FPS", help="Send MIDI Time Code: 24, 25, 29.97, 29.97ndf, 30."
            ),
        ] = None,
        start_tc: Annotated[
            str | None,
            typer.Option(
                "--start-tc",
                metavar="HH:MM:SS:FF",
                help="Timecode of bar 1's downbeat (default: the map's start:, else 0).",
            ),
        ] = None,
        midi_connect: Annotated[
            str | None,
            typer.Option(
                "--midi-connect",
                metavar="PORT,...",
                help="JACK: connect the MIDI output to these ports or clients.",
            ),
        ] = None,
        jack_transport: Annotated[
            str | None,
            typer.Option(
                "--jack-transport",
                metavar="master|follow",
                help="JACK transport: publish bar/beat/tempo as timebase master, or follow "
                "another application's start, stop and locate.",
            ),
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No messages.")] = False,
    ) -> None:
        """Play the click of MAP live, sample for sample what 'ictus render' writes.

        With a terminal it shows a live display (space start/stop, arrows move a bar,
        +/- tempo, t tap, l loop, q quit); without one (stdin not a terminal) it plays
        the map once and exits at its end.

        Examples:

          ictus play song.click

          ictus play song.click --backend jack --connect system:playback_3,system:playback_4

          ictus play show.klick -c 8 --click-on 7,8 --latency=-4 --from-label chorus

          ictus play song.click --backend portaudio --device "USB Audio" --scale 90%

          ictus play song.click --loop verse --count-in 1

          ictus play song.click --backend jack --midi-out jack --midi-clock --mtc 25
        """
        from ictus.cli import common
        from ictus.engine import BackendError, Engine, State, make_backend
        from ictus.engine.backends import NoOutput
        from ictus.render import FLOAT, Overs, check_headroom, parse_channels
        from ictus.sounds import parse_gains
        from ictus.tempomap import build_grid

        tempo_map = common.load_map(
            map_file,
            fmt=source_format,
            scale=scale,
            count_in=count_in,
            click_unit=click_unit,
            bars=bars,
        )
        with common.option_values():
            targets = parse_channels(
                channels, common.parse_int_list(click_on, "--click-on") if click_on else None
            )
            latency_ms = parse_latency(latency) if latency else None
            gains = parse_gains(gain) if gain else None
            overs_rule = Overs.parse(overs)
        sync = sync_settings(midi_out, midi_clock, mtc, start_tc, midi_connect, jack_transport)
        if sound is not None and sound_file is not None:
            raise UsageError("give --sound or --sound-file, not both")
        if period < 0 or period > 8192:
            raise UsageError(f"--period must be 0..8192 frames, got {period}")
        if loop is not None and from_label is None and from_bar is None:
            from_label = loop  # --loop alone: start at the section it repeats
        interactive = sys.stdin.isatty()
        name = backend or None
        if name is not None and name not in BACKEND_NAMES:
            raise UsageError(f"--backend: choose one of {', '.join(BACKEND_NAMES)}, got {name!r}")
        options: dict[str, Any] = {}
        from ictus.engine.backends import default_backend

        asked_for = name or os.environ.get("ICTUS_BACKEND", "").strip() or None
        name = name or default_backend()
        if name == "jack":
            options = {
                "client_name": client_name,
                "connect": parse_connect(connect),
                "server": device,
            }
        elif name == "portaudio":
            options = {"device": device, "period": period}
        elif name == "null":
            options = {
                "rate": sample_rate or 48000,
                "period": period or 256,
                "driver": "paced" if interactive else "fast",
            }
        options.update(sync_backend_options(sync, name))
        audio = make_backend(name, **options)
        with common.option_values():
            sync_outputs, followers = sync_hooks(sync, audio, tempo_map)

        whole = build_grid(tempo_map, start_label=from_label, start_bar=from_bar)

        def voice(rate: int) -> Any:
            # made once the backend's rate is known: warn, fit or refuse before a sound
            chosen = common.load_voice_for(sound, sound_file, rate, count_in_sound)
            return check_headroom(
                whole,
                chosen,
                rate=rate,
                coding=FLOAT,
                overs=overs_rule,
                gains=gains,
                target="the live output",
            )

        engine = Engine(
            tempo_map,
            audio,
            voice=voice,
            channels=channels,
            click_on=targets,
            gains=gains,
            latency_ms=latency_ms,
            start_label=from_label,
            start_bar=from_bar,
            loop=loop,
            reconnect=reconnect,
            rate=sample_rate,
            event_outputs=sync_outputs,
            followers=followers,
        )
        import signal

        def stop_playing(_signum: int, _frame: Any) -> None:
            raise KeyboardInterrupt

        # SIGTERM (a show controller, systemd) ends play as cleanly as Ctrl-C
        signal.signal(signal.SIGTERM, stop_playing)
        try:
            engine.open()
        except NoOutput as err:
            raise BackendError(nowhere_to_play(str(err), name, asked_for is None)) from None
        try:
            if not quiet and not interactive:
                sys.stderr.write(f"ictus: playing {map_file} on {audio.describe()}\n")
            if not followers:  # a follower starts it when its source rolls
                engine.start()
            if interactive:
                from ictus.cli import display

                outcome = display.run(engine)
            else:
                outcome = engine.wait()
        except KeyboardInterrupt:
            engine.close()
            raise typer.Exit(130) from None
        failure = engine.failure
        engine.close()
        if outcome == State.OFFLINE:
            hint = "; use --reconnect to wait for it" if name == "jack" else ""
            raise BackendError(f"{failure}{hint}")
        if engine.output_errors:
            sys.stderr.write(f"ictus: a sync output failed: {engine.status().output_failure}\n")
        if not quiet and not interactive and audio.xruns:
            sys.stderr.write(f"ictus: {audio.xruns} xrun(s) while playing\n")

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


app = m.area()
register(app)

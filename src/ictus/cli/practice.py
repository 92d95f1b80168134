"""Commands of the practice area (an area of :mod:`ictus.cli.app`).

``ictus analyze`` tells a player how a take sat against the click; ``ictus practice``
records the take through the engine while the click plays and then analyses it, placed
by the engine's own clock (:mod:`ictus.practice.session`); ``ictus conform`` makes a
tempo map (and a click) from a recording made without one. They need the ``practice``
extra (librosa); without it they say so in one line and exit 1.
"""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple, TextIO

import typer

from ictus.cli import options as m
from ictus.cli.options import area

if TYPE_CHECKING:
    import contextlib

    from ictus.cli.live import BackendChoice
    from ictus.engine import Engine
    from ictus.practice.onsets import Detector
    from ictus.practice.session import Alignment
    from ictus.practice.timing import GapTiming, Spread, TimingReport
    from ictus.tempomap import ClickGrid, Meter, TempoMap

app = area()


def _parse_meter(text: str) -> "Meter":
    """``6/8`` or ``7/8 (2+2+3)``, read as the ``.click`` format reads a meter."""
    from ictus.errors import ParseError
    from ictus.formats import parse_click

    try:
        return parse_click(f"1 {text.strip()} 120", "--meter").sections[0].meter
    except ParseError:
        from ictus.cli.common import UsageError

        raise UsageError(
            f"--meter: expected N/D such as 4/4, 6/8 or 7/8 (2+2+3), got {text!r}"
        ) from None


def _usage(text: str) -> Exception:
    from ictus.cli.common import UsageError

    return UsageError(text)


def _check_suffix(path: str | None, allowed: tuple[str, ...], option: str) -> None:
    if path is not None and Path(path).suffix.lower() not in allowed:
        raise _usage(f"{option}: must end in {', '.join(allowed)}, got {path!r}")


# -- ictus analyze ----------------------------------------------------------------------


@app.command("analyze")
def analyze(
    take: Annotated[str, typer.Argument(metavar="TAKE", help="The recording (WAV, FLAC...).")],
    map_path: Annotated[
        str,
        typer.Option("--map", "-m", metavar="MAP", help="The tempo map the take was played to."),
    ],
    offset: Annotated[
        str,
        typer.Option(
            "--offset",
            metavar="auto|SECONDS",
            help="Recording time of the map's start (its first count-in click, or bar 1). "
            "auto: the offset that matches most notes, centred on the median note.",
        ),
    ] = "auto",
    window: Annotated[
        float,
        typer.Option("--window", metavar="MS", help="Notes further from a click are extra."),
    ] = 100.0,
    plot: Annotated[
        str | None,
        typer.Option("--plot", metavar="FILE", help="Write a plot (.png, .svg or .pdf)."),
    ] = None,
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json", metavar="FILE", help="Write the full report as JSON (- for stdout)."
        ),
    ] = None,
    detector: Annotated[
        str, typer.Option("--detector", help="Onset detector: librosa or aubio.")
    ] = "librosa",
) -> None:
    """How a take sits against the click: early/late per note, bar and section, drift.

    Finds the notes in TAKE, matches each to the nearest click of MAP and reports the
    mean and spread of early (-) and late (+) in milliseconds, per section whether
    the player sat ahead (rushing) or behind (dragging), and the drift over the song
    (a straight line through all notes). Needs the practice extra:
    pip install 'ictus[practice]'.

    Examples:

      ictus analyze take.wav --map song.click

      ictus analyze take.wav --map song.click --offset 0.5 --plot timing.png

      ictus analyze take.wav --map song.click --json report.json
    """
    from ictus.cli import common
    from ictus.practice.onsets import Detector, detect_onsets, library_version
    from ictus.practice.recording import read_recording
    from ictus.practice.timing import analyze as analyze_take
    from ictus.practice.timing import find_offset

    _check_suffix(plot, (".png", ".svg", ".pdf"), "--plot")
    if plot is not None:
        common.needs("matplotlib", "ictus analyze --plot")
    try:
        chosen = Detector(detector)
    except ValueError:
        raise _usage(f"--detector: choose librosa or aubio, got {detector!r}") from None
    if offset == "auto":
        fixed = None
    else:
        try:
            fixed = float(offset)
        except ValueError:
            raise _usage(f"--offset: expected auto or seconds, got {offset!r}") from None
    if not 0 < window <= 1000:
        raise _usage(f"--window: must be 0..1000 ms, got {window:g}")
    grid = common.load_grid(map_path)
    version = library_version(chosen)
    audio, rate = read_recording(take)
    onsets = detect_onsets(audio, rate, detector=chosen)
    if len(onsets) == 0:
        from ictus.errors import IctusError

        raise IctusError(f"no notes found in '{take}'")
    start = find_offset(onsets, grid) if fixed is None else fixed
    report = analyze_take(onsets, grid, offset=start, window=window / 1000)
    _publish(report, grid, Reports(json_path, plot), take=take, map=map_path, detector=version)


class Reports(NamedTuple):
    """Where ``--json`` and ``--plot`` go (None: not asked for)."""

    json_path: str | None
    plot: str | None


def _publish(
    report: "TimingReport",
    grid: "ClickGrid",
    where: Reports,
    *,
    take: str,
    lead: str = "",
    **about: object,
) -> None:
    """The summary (after ``lead``), the JSON report and the plot of a measured take."""
    # with the JSON on standard output, the summary goes to standard error
    out = sys.stderr if where.json_path == "-" else sys.stdout
    out.write(lead)
    _print_report(report, out)
    if where.json_path is not None:
        from ictus.practice.timing import to_json

        data = to_json(report, take=take, **about)
        text = json.dumps(data, indent=1) + "\n"
        if where.json_path == "-":
            sys.stdout.write(text)
        else:
            from ictus.atomic import atomic_path

            with atomic_path(where.json_path) as tmp:
                Path(tmp).write_text(text, encoding="utf-8")
    if where.plot is not None:
        from ictus.practice.plot import plot_timing

        plot_timing(report, grid, where.plot, title=Path(take).name)


def _print_report(report: "TimingReport", out: TextIO) -> None:
    def ms(x: float) -> str:
        return f"{x * 1000:+.1f}"

    lines = [f"offset {report.offset:.4f} s"]
    o = report.overall
    if o.count == 0:
        lines.append("no note matched a click: check --map and --offset")
    else:
        lines.append(
            f"{o.count} notes: mean {ms(o.mean)} ms, spread {o.spread * 1000:.1f} ms "
            f"(earliest {ms(o.earliest)}, latest {ms(o.latest)}); "
            f"{report.missed} clicks not played, {report.extra} extra notes"
        )
    if report.drift is not None:
        lines.append(f"drift {report.drift.per_minute * 1000:+.1f} ms per minute")
    if report.gaps is not None:
        lines.extend(_gap_lines(report.gaps))
    for s in report.sections:
        t = s.timing
        name = s.label or "(no label)"
        if t.count == 0:
            lines.append(f"  {name:<12} bars {s.first_bar}-{s.last_bar}: no notes")
            continue
        lines.append(
            f"  {name:<12} bars {s.first_bar}-{s.last_bar}: mean {ms(t.mean)} ms, "
            f"spread {t.spread * 1000:.1f} ms, {s.feel.value}, "
            f"trend {s.trend * 60_000:+.1f} ms/min"
        )
    lines.append("bar  notes  mean ms  spread ms")
    for b in report.bars:
        lines.append(
            f"{b.bar:>3}  {b.timing.count:>5}  {ms(b.timing.mean):>7}  "
            f"{b.timing.spread * 1000:>9.1f}"
        )
    out.write("\n".join(lines) + "\n")


def _gap_lines(g: "GapTiming") -> list[str]:
    """With the click and in the gap bars, apart: the gap click's point."""

    def one(name: str, t: "Spread") -> str:
        if t.count == 0:
            return f"  {name}: no notes"
        return (
            f"  {name}: {t.count} notes, mean {t.mean * 1000:+.1f} ms, "
            f"spread {t.spread * 1000:.1f} ms"
        )

    drift = (
        ""
        if g.drift is None
        else f", drift {g.drift.rate * 1000:+.1f} ms per second of gap"
    )
    return [
        one("with the click", g.clicked),
        one(f"in the gaps ({len(g.bars)} bars)", g.gaps) + (drift if g.gaps.count else ""),
    ]


# -- ictus conform ----------------------------------------------------------------------


@app.command("conform")
def conform(
    recording: Annotated[
        str, typer.Argument(metavar="RECORDING", help="A recording made without a click.")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="The tempo map to write.")
    ],
    meter: Annotated[
        str | None,
        typer.Option(
            "--meter",
            metavar="N/D",
            help="The meter (default: guessed bar by bar, 2/4 3/4 or 4/4).",
        ),
    ] = None,
    first_downbeat: Annotated[
        float | None,
        typer.Option(
            "--first-downbeat", metavar="SECONDS", help="Where bar 1 starts in the recording."
        ),
    ] = None,
    tempo: Annotated[
        float | None,
        typer.Option(
            "--tempo", metavar="BPM", help="About the tempo you hear (picks the beat level)."
        ),
    ] = None,
    follow: Annotated[
        str, typer.Option("--follow", help="beat: a tempo per beat; bar: a tempo per bar.")
    ] = "beat",
    click: Annotated[
        str | None,
        typer.Option("--click", metavar="FILE", help="Also render the click to this file."),
    ] = None,
    sound: Annotated[
        str | None, typer.Option("--sound", metavar="NAME", help="Click voice for --click.")
    ] = None,
    beats_path: Annotated[
        str | None,
        typer.Option(
            "--beats", metavar="FILE", help="Also write the tracked beats (one time a line)."
        ),
    ] = None,
) -> None:
    """A tempo map from a recording made without a click, and a click that follows it.

    Tracks the beats of RECORDING (librosa's beat tracker, which ships no model and
    works offline), finds the bar lines (from --meter and --first-downbeat, else a
    guess from the kick drum's energy) and writes a map whose clicks land on the
    tracked beats: a tempo per beat (--follow beat) or per bar (--follow bar). The
    time before the first beat is a muted 'lead' bar, so the map and --click line up
    with the recording from its start. Needs the practice extra:
    pip install 'ictus[practice]'.

    Examples:

      ictus conform song.wav -o song.click

      ictus conform song.wav -o song.click --meter 6/8 --first-downbeat 1.52

      ictus conform live.wav -o live.click --click live-click.wav --tempo 92
    """
    from ictus.cli import common
    from ictus.formats import write_map
    from ictus.practice.conform import Follow, beats_to_map, guess_bars, track_beats
    from ictus.practice.recording import read_recording
    from ictus.tempomap import build_grid

    try:
        how = Follow(follow)
    except ValueError:
        raise _usage(f"--follow: choose beat or bar, got {follow!r}") from None
    fixed_meter = _parse_meter(meter) if meter is not None else None
    from ictus.practice.onsets import need

    need("librosa")
    audio, rate = read_recording(recording)
    beats = track_beats(audio, rate, tempo=tempo)
    bars = guess_bars(beats, meter=fixed_meter, first_downbeat=first_downbeat)
    tempo_map = beats_to_map(beats.times, bars, follow=how, title=Path(recording).stem)
    write_map(tempo_map, output)
    if beats_path is not None:
        from ictus.atomic import atomic_path

        with atomic_path(beats_path) as tmp:
            Path(tmp).write_text("".join(f"{t:.6f}\n" for t in beats.times), "utf-8")
    spans = [60 / d for d in (beats.times[1:] - beats.times[:-1])]
    guessed = " (guessed; fix with --meter/--first-downbeat)" if bars.guessed else ""
    structure = ", ".join(
        f"{s.bars} x {s.meter}" for s in tempo_map.sections if s.label not in ("lead",)
    )
    sys.stderr.write(
        f"{beats.tracker}: {len(beats.times)} beats, {min(spans):.1f}-{max(spans):.1f} "
        f"beats per minute, pulse clarity {beats.clarity:.2f}; bars {structure}, "
        f"first downbeat {beats.times[bars.first_downbeat]:.3f} s{guessed}\n"
    )
    sys.stderr.write(f"wrote {output}: {tempo_map.total_bars} bars\n")
    if click is not None:
        from ictus.render import render_file

        voice = common.load_voice_for(sound, None, rate)
        render_file(build_grid(tempo_map), click, voice=voice, rate=rate)
        sys.stderr.write(f"wrote {click}\n")


# -- ictus practice ---------------------------------------------------------------------

InputOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--input",
        "-i",
        metavar="PORT|DEVICE",
        help="JACK: a port or client to record (repeat or separate by commas for more "
        "inputs; none: an input to wire yourself). PortAudio: the input device.",
    ),
]
PracticeBackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend", "-b", metavar="jack|portaudio|null", help="Audio backend (as ictus play)."
    ),
]
PracticeDeviceOpt = Annotated[
    str | None,
    typer.Option("--device", "-d", help="PortAudio: output device; JACK: server name."),
]


class Practice(NamedTuple):
    """The checked options of ``ictus practice``."""

    map_file: str
    take: Path
    inputs: list[str]
    input_channels: int
    bars: int | None
    round_trip: float | None  # ms, None: as the backend reports it
    window: float  # seconds
    detector: object  # ictus.practice.onsets.Detector
    reports: Reports
    quiet: bool


def _inputs(values: list[str] | None) -> list[str]:
    """``--input`` values, repeated or separated by commas.

    >>> _inputs(["system:capture_1,system:capture_2", "synth"])
    ['system:capture_1', 'system:capture_2', 'synth']
    """
    items = [x.strip() for v in values or () for x in v.split(",") if x.strip()]
    if "none" in items and len(items) > 1:
        raise _usage("--input none: an input to wire yourself; give it alone")
    return items


def _take_path(take: str | None, map_file: str) -> Path:
    """``--take``, else ``<map>-take-N.wav`` next to the map (the first free N), else
    in the temporary directory (a map from stdin, a folder we cannot write)."""
    if take is not None:
        _check_suffix(take, (".wav", ".flac", ".w64", ".caf", ".aiff"), "--take")
        return Path(take)
    import os
    import tempfile

    here = Path(map_file).resolve().parent if map_file != "-" else None
    folder = here if here is not None and os.access(here, os.W_OK) else Path(tempfile.gettempdir())
    stem = Path(map_file).stem if map_file != "-" else "ictus"
    n = 1
    while (folder / f"{stem}-take-{n}.wav").exists():
        n += 1
    return folder / f"{stem}-take-{n}.wav"


def _backend_options(name: str, p: Practice) -> tuple[int, dict[str, object]]:
    """How many inputs the take has, and the backend options that open them."""
    if name == "jack":
        items = p.inputs or ["none"]
        connect = [] if items == ["none"] else items
        return len(items), {"inputs": len(items), "input_connect": connect}
    if len(p.inputs) > 1:
        raise _usage(f"--input: {name} records from one device, got {len(p.inputs)}")
    if name == "portaudio":
        device = p.inputs[0] if p.inputs and p.inputs[0] != "default" else None
        return p.input_channels, {"inputs": p.input_channels, "input_device": device}
    return p.input_channels, {"inputs": p.input_channels}


def _wait(engine: "Engine", stop_frame: int | None, interactive: bool) -> str:
    """Until the map ends, ``q`` (a terminal), Ctrl-C or the grid frame ``stop_frame``."""
    import contextlib
    import threading

    from ictus.errors import IctusError

    quit_now = threading.Event()
    keys: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if interactive:
        from ictus.cli.display import Keys

        keys = Keys(lambda key: quit_now.set() if key in ("q", "Q") else None)
    try:
        with keys:
            while not quit_now.wait(0.02):
                if interactive:
                    _show(engine)
                snap = engine.transport.snapshot
                if engine.failure is not None:
                    raise IctusError(f"the take stopped: {engine.failure}")
                if snap.ended:
                    return "the end of the map"
                if stop_frame is not None and snap.playing and snap.frame >= stop_frame:
                    return "--bars"
    except KeyboardInterrupt:
        return "Ctrl-C"
    return "q"


def _show(engine: "Engine") -> None:
    """One line on the terminal: where the click is (the player watches the count-in)."""
    s = engine.status()
    where = f"count-in {s.beat}" if s.count_in else f"bar {s.bar} beat {s.beat}"
    sys.stderr.write(f"\r  {where:<18} {s.section:<12} {s.tempo:6.1f} bpm   q stops ")
    sys.stderr.flush()


def _record(p: Practice, choice: "BackendChoice", tempo_map: "TempoMap", play: dict[str, object]
            ) -> tuple["Alignment", int | None, str]:
    """Play the click and record the take; where the grid sits in it, and ``--bars``'s
    end in grid frames."""
    import time

    from ictus.cli import live
    from ictus.engine import TakeRecorder, make_backend
    from ictus.engine.backends import Latency
    from ictus.practice.session import align

    count, options = _backend_options(choice.name, p)
    recorder = TakeRecorder(channels=count)
    transport = play.pop("jack_transport")
    sync = live.sync_settings(None, False, None, None, None, str(transport) if transport else None)
    with common_values():
        synced, jack_options = live.sync_flags(sync, choice.name, tempo_map)
    settings = live.PlaySettings(tempo_map=tempo_map, **play)  # type: ignore[arg-type]
    backend_options = dict(choice.options)
    if choice.name == "null":
        # a take is played in real time: a null backend racing ahead without a terminal
        # would fill the take's ring faster than its writer drains it
        backend_options["driver"] = "paced"
    audio = make_backend(choice.name, **backend_options, **options, **jack_options)
    extras = synced + live.Attachments(inputs=(recorder,))
    engine = live.make_engine(settings, audio, extras)
    live.stop_on_sigterm()
    live.open_engine(engine, choice)
    remotes = live.open_remotes(engine, extras.remotes)
    try:
        recorder.record_to(p.take)
        recorder.arm()
        engine.start()
        plan = engine.transport.snapshot.plan
        stop = None
        if p.bars is not None:
            stop = plan.bar_frame.get(plan.anchor + p.bars, plan.end) + plan.rate * 3 // 10
        if not p.quiet:
            sys.stderr.write(
                f"ictus: practising {p.map_file} on {audio.describe()}; recording "
                f"{count} input(s) to {p.take}; q or Ctrl-C stops\n"
            )
        why = _wait(engine, stop, settings.interactive)
        if settings.interactive:
            sys.stderr.write("\n")  # after the status line
        if why == "the end of the map":
            time.sleep(0.3)  # the last note rings on past the map's end
        reported = audio.reported_latency()
    finally:
        recorder.disarm()
        engine.close()
        for remote in remotes:
            remote.close()
    recorder.finish()
    if recorder.first_clock is None:
        from ictus.errors import IctusError

        raise IctusError("nothing was recorded: the backend handed over no input")
    latency = reported
    if p.round_trip is not None:
        latency = Latency(0, round(p.round_trip * audio.rate / 1000))
    alignment = align(
        engine.transport.history, first_clock=recorder.first_clock, rate=audio.rate,
        latency=latency,
    )
    until = None
    if p.bars is not None:
        until = alignment.plan.bar_frame.get(alignment.plan.anchor + p.bars, alignment.plan.end)
    return alignment, until, why


def common_values() -> "contextlib.AbstractContextManager[None]":
    from ictus.cli import common

    return common.option_values()


@app.command("practice")
def practice(
    map_file: Annotated[
        str, typer.Argument(metavar="MAP", help="The tempo map to practise to.")
    ],
    inputs: InputOpt = None,
    take: Annotated[
        str | None,
        typer.Option(
            "--take", metavar="FILE", help="Where to write the take (default: MAP-take-N.wav)."
        ),
    ] = None,
    bars: Annotated[
        int | None,
        typer.Option("--bars", metavar="N", help="Stop after N bars (from the start bar)."),
    ] = None,
    json_path: Annotated[
        str | None,
        typer.Option("--json", metavar="FILE", help="Write the report as JSON (- for stdout)."),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option("--plot", metavar="FILE", help="Write a plot (.png, .svg or .pdf)."),
    ] = None,
    window: Annotated[
        float,
        typer.Option("--window", metavar="MS", help="Notes further from a click are extra."),
    ] = 100.0,
    detector: Annotated[
        str, typer.Option("--detector", help="Onset detector: librosa or aubio.")
    ] = "librosa",
    round_trip: Annotated[
        str,
        typer.Option(
            "--round-trip",
            metavar="auto|MS",
            help="Output plus input latency to take off (auto: as JACK or PortAudio "
            "reports it).",
        ),
    ] = "auto",
    input_channels: Annotated[
        int,
        typer.Option("--input-channels", metavar="N", help="PortAudio: channels to record."),
    ] = 1,
    backend: PracticeBackendOpt = None,
    device: PracticeDeviceOpt = None,
    client_name: Annotated[str, typer.Option("--client-name", help="JACK client name.")] = "ictus",
    connect: Annotated[
        str,
        typer.Option("--connect", metavar="auto|none|PORT,...", help="JACK: where the click goes."),
    ] = "auto",
    channels: Annotated[int, typer.Option("--channels", "-c", help="Click outputs.")] = 2,
    period: Annotated[int, typer.Option("--period", help="PortAudio/null: block size.")] = 0,
    sample_rate: Annotated[int | None, typer.Option("--sample-rate", "-r")] = None,
    sound: m.SoundOpt = None,
    scale: m.ScaleOpt = None,
    count_in: m.CountInOpt = None,
    from_label: m.FromLabelOpt = None,
    from_bar: m.FromBarOpt = None,
    gap: m.GapOpt = None,
    seed: m.SeedOpt = None,
    speed_trainer: m.SpeedTrainerOpt = None,
    jack_transport: Annotated[
        str | None,
        typer.Option(
            "--jack-transport", metavar="master", help="Roll the JACK transport with the click."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No messages.")] = False,
) -> None:
    """Play the click of MAP, record the player through the engine, then analyse the take.

    The take comes in on the engine's own inputs (JACK ports NAME:in_1... or the
    PortAudio input device), so it is placed on the click by the engine's clock: no
    offset is guessed, and the round trip the backend reports is taken off
    (docs/PRACTICE.md). It stops at the end of the map, after --bars N, or on q or
    Ctrl-C; then it prints what 'ictus analyze' prints and writes the take (32-bit
    float), --json and --plot. Needs the practice extra: pip install 'ictus[practice]'.

    Examples:

      ictus practice song.click --input system:capture_1

      ictus practice song.click -i system:capture_1 --bars 8 --plot timing.png

      ictus practice song.click --backend portaudio --input "USB Audio" --take take.wav

      ictus practice song.click -i system:capture_1 --gap 2:2   (timing alone, apart)
    """
    from ictus.cli import common
    from ictus.practice.onsets import library_version

    chosen = _practice_checks(detector, window, plot, bars, input_channels)
    p = Practice(
        map_file, _take_path(take, map_file), _inputs(inputs), input_channels, bars,
        _round_trip(round_trip), window / 1000, chosen, Reports(json_path, plot), quiet,
    )
    version = library_version(chosen)  # before playing: a missing extra says so at once
    tempo_map = common.load_map(map_file, scale=scale, count_in=count_in)
    from ictus.cli import live
    from ictus.cli.trainer_flags import apply_trainers

    # the trainers of ictus play: the analysis then tells the gap bars from the clicked
    drilled = apply_trainers(
        tempo_map, gap=gap, seed=seed, speed_trainer=speed_trainer, from_label=from_label
    )
    tempo_map = drilled.tempo_map

    with common.option_values():
        targets = live.click_outputs(channels, None, ())
    interactive = sys.stdin.isatty()
    choice = live.choose_backend(
        backend, device, client_name, connect, period, sample_rate, interactive
    )
    play: dict[str, object] = dict(
        map_file=map_file, channels=channels, click_on=targets, latency_ms=None, gains=None,
        overs=_overs(), sound=sound, sound_file=None, count_in_sound=None,
        from_label=drilled.from_label, from_bar=from_bar, loop=None, reconnect=False,
        sample_rate=sample_rate, quiet=quiet, interactive=interactive, start=True,
        jack_transport=jack_transport,
    )
    alignment, until, why = _record(p, choice, tempo_map, play)
    _measure(p, alignment, until, why, version)


def _overs() -> object:
    from ictus.render import Overs

    return Overs.parse("warn")


def _practice_checks(
    detector: str, window: float, plot: str | None, bars: int | None, input_channels: int
) -> "Detector":
    from ictus.cli import common
    from ictus.practice.onsets import Detector

    _check_suffix(plot, (".png", ".svg", ".pdf"), "--plot")
    if plot is not None:
        common.needs("matplotlib", "ictus practice --plot")
    try:
        chosen = Detector(detector)
    except ValueError:
        raise _usage(f"--detector: choose librosa or aubio, got {detector!r}") from None
    if not 0 < window <= 1000:
        raise _usage(f"--window: must be 0..1000 ms, got {window:g}")
    if bars is not None and bars < 1:
        raise _usage(f"--bars: at least 1, got {bars}")
    if not 1 <= input_channels <= 64:
        raise _usage(f"--input-channels: 1..64, got {input_channels}")
    return chosen


def _round_trip(text: str) -> float | None:
    """``auto`` (None) or milliseconds.

    >>> _round_trip("auto"), _round_trip("12.5")
    (None, 12.5)
    """
    if text == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        raise _usage(f"--round-trip: expected auto or milliseconds, got {text!r}") from None
    if not 0 <= value <= 2000:
        raise _usage(f"--round-trip: 0..2000 ms, got {text!r}")
    return value


def _measure(p: Practice, a: "Alignment", until: int | None, why: str, version: str) -> None:
    """Analyse the take just written, placed by ``a``, as ``ictus analyze`` would."""
    from ictus.errors import IctusError
    from ictus.practice.onsets import detect_onsets
    from ictus.practice.recording import read_recording
    from ictus.practice.timing import analyze as analyze_take

    take = str(p.take)
    sys.stderr.write(f"ictus: stopped at {why}; wrote the take to {take}\n")
    audio, rate = read_recording(take)
    onsets = detect_onsets(audio, rate, detector=p.detector)  # type: ignore[arg-type]
    if len(onsets) == 0:
        raise IctusError(f"no notes found in '{take}'")
    stop = a.until
    if until is not None:
        stop = min(until / a.rate, stop if stop is not None else float("inf"))
    grid = a.plan.grid
    report = analyze_take(onsets, grid, offset=a.offset, window=p.window, until=stop)
    bar = a.plan.anchor
    at = a.bar_clock(bar)
    lat = a.latency
    lead = (
        f"aligned by the engine: bar {bar} at {(at or 0) - a.first_clock} frames of the take, "
        f"round trip {lat.round_trip} frames taken off (playback {lat.playback} + "
        f"capture {lat.capture})\n"
    )
    recording = {
        "rate": a.rate,
        "first_clock": a.first_clock,
        "grid_clock": a.grid_clock,
        "bar": bar,
        "bar_clock": at,
        "playback_latency": lat.playback,
        "capture_latency": lat.capture,
        "until_s": stop,
    }
    _publish(
        report, grid, p.reports, take=take, lead=lead, map=p.map_file, detector=version,
        recording=recording,
    )

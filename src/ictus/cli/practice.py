"""Commands of the practice area (an area of :mod:`ictus.cli.app`).

``ictus analyze`` tells a player how a take sat against the click; ``ictus conform``
makes a tempo map (and a click) from a recording made without one. Both need the
``practice`` extra (librosa); without it they say so in one line and exit 1.

``ictus practice MAP --input ...`` (record through the engine while the click plays, then
analyse) waits for the engine's recording API and is not here yet.
"""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from ictus.cli.options import area

if TYPE_CHECKING:
    from ictus.practice.timing import TimingReport
    from ictus.tempomap import Meter

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
    from ictus.practice.timing import find_offset, to_json

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
    # with the JSON on standard output, the summary goes to standard error
    _print_report(report, sys.stderr if json_path == "-" else sys.stdout)
    if json_path is not None:
        data = to_json(report, take=take, map=map_path, detector=version)
        text = json.dumps(data, indent=1) + "\n"
        if json_path == "-":
            sys.stdout.write(text)
        else:
            from ictus.atomic import atomic_path

            with atomic_path(json_path) as tmp:
                Path(tmp).write_text(text, encoding="utf-8")
    if plot is not None:
        from ictus.practice.plot import plot_timing

        plot_timing(report, grid, plot, title=Path(take).name)


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

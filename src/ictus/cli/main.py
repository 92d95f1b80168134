"""The ``ictus`` command line. Each command parses its arguments and calls the packages.

Errors a user can cause are printed as one line (with the offending source line and a
caret where there is one) and exit with status 1; usage mistakes exit with status 2.
"""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

import typer

from ictus import __version__
from ictus.cli import common
from ictus.errors import IctusError

app = typer.Typer(
    name="ictus",
    help="Exact, programmable click tracks: tempo maps, rendering, live playback, "
    "DAW interchange, film sync.\n\n"
    "Examples:\n\n"
    "  ictus render song.click -o click.wav\n\n"
    "  ictus beats song.click --format csv\n\n"
    "  ictus info song.click\n\n"
    "  ictus plot song.click -o tempo.png\n\n"
    "  ictus play song.click --connect system:playback_3,system:playback_4\n\n"
    "  ictus film fit hits.csv --fps 24 --range 100-140",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# -- options shared by the commands that read a map ----------------------------------

MapArg = Annotated[
    str,
    typer.Argument(
        metavar="MAP", help="Tempo map (.click .klick .json .mid .musicxml .mxl) or - for stdin."
    ),
]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="FORMAT",
        help="Read MAP as click, klick, json, midi or musicxml (default: by extension).",
    ),
]
ScaleOpt = Annotated[
    str | None,
    typer.Option(
        "--scale", metavar="FACTOR", help="Scale every tempo: 0.9 or 90% plays 10% slower."
    ),
]
CountInOpt = Annotated[
    str | None,
    typer.Option(
        "--count-in",
        metavar="N[ bars|beats]",
        help="Count-in: '1' (bar), '2 bars', '4 beats', '0' for none; overrides the map's.",
    ),
]
FromLabelOpt = Annotated[
    str | None,
    typer.Option("--from-label", metavar="LABEL", help="Start at the section with this label."),
]
FromBarOpt = Annotated[
    int | None,
    typer.Option("--from-bar", metavar="BAR", help="Start at this bar (1 = first bar of the map)."),
]
RateOpt = Annotated[
    int, typer.Option("--sample-rate", "-r", metavar="HZ", help="Sample rate in Hz.")
]
SoundOpt = Annotated[
    str | None,
    typer.Option(
        "--sound",
        metavar="NAME",
        help=f"Built-in voice (default {common.DEFAULT_SOUND}); see 'ictus sounds'.",
    ),
]
SoundFileOpt = Annotated[
    str | None,
    typer.Option(
        "--sound-file",
        metavar="ACCENT[,NORMAL[,SUB]]",
        help="Your own samples per level; one file serves several levels.",
    ),
]
ClickUnitOpt = Annotated[
    str | None,
    typer.Option(
        "--click-unit",
        metavar="meter|file",
        help="MIDI input: click every 1/denominator pulse (meter, default) "
        "or follow the file's clocks_per_click (file).",
    ),
]
BarsOpt = Annotated[
    int | None,
    typer.Option(
        "--bars", metavar="N", help="MIDI/MusicXML input: end the map after this many bars."
    ),
]
GainOpt = Annotated[
    str | None,
    typer.Option(
        "--gain",
        metavar="LEVEL=DB,...",
        help="Gain per level in dB, e.g. accent=0,normal=-3,sub=-9.",
    ),
]

OverwriteInputOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite-input", help="Let the output replace an input file (refused otherwise)."
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ictus {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Exact, programmable click tracks."""


@app.command()
def render(
    map_file: MapArg,
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Output audio file (.wav .flac .ogg .mp3 .aiff)."
        ),
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="wav, rf64, flac, ogg, mp3, aiff (default: by extension; "
            "WAV over 4 GiB is written as RF64).",
        ),
    ] = None,
    bit_depth: Annotated[
        str | None,
        typer.Option(
            "--bit-depth", metavar="16|24|32f", help="16, 24 or 32f (WAV/FLAC/AIFF; default 24)."
        ),
    ] = None,
    sample_rate: RateOpt = 48000,
    channels: Annotated[
        int, typer.Option("--channels", "-c", metavar="N", help="Number of channels in the file.")
    ] = 1,
    click_on: Annotated[
        str | None,
        typer.Option(
            "--click-on",
            metavar="CH,...",
            help="Channels (from 1) that carry the click; default all.",
        ),
    ] = None,
    sound: SoundOpt = None,
    sound_file: SoundFileOpt = None,
    gain: GainOpt = None,
    source_format: FromOpt = None,
    scale: ScaleOpt = None,
    count_in: CountInOpt = None,
    from_label: FromLabelOpt = None,
    from_bar: FromBarOpt = None,
    click_unit: ClickUnitOpt = None,
    bars: BarsOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")
    ] = False,
    overwrite_input: OverwriteInputOpt = False,
) -> None:
    """Render the click of MAP to an audio file.

    Examples:

      ictus render song.click -o click.wav

      ictus render song.click -o click.flac --bit-depth 16 -r 44100 --sound cowbell

      ictus render show.klick -o stems.wav --channels 8 --click-on 7,8

      ictus render song.click -o practice.wav --scale 90% --count-in 2
    """
    from ictus.render import parse_channels, render_file
    from ictus.sounds import parse_gains

    common.overwrite_inputs(overwrite_input)
    grid = common.load_grid(
        map_file,
        fmt=source_format,
        scale=scale,
        count_in=count_in,
        from_label=from_label,
        from_bar=from_bar,
        click_unit=click_unit,
        bars=bars,
    )
    targets = parse_channels(
        channels, common.parse_int_list(click_on, "--click-on") if click_on else None
    )
    voice = common.load_voice_for(sound, sound_file, sample_rate)
    gains = parse_gains(gain) if gain else None
    show = not quiet and sys.stderr.isatty() and grid.duration > 30
    with common.progress_bar("rendering", show) as bar:
        task = bar.add_task("rendering", total=1) if bar is not None else None  # type: ignore[attr-defined]

        def advance(done: int, total: int) -> None:
            if bar is not None:
                bar.update(task, completed=done, total=total)  # type: ignore[attr-defined]

        frames = render_file(
            grid,
            output,
            voice=voice,
            rate=sample_rate,
            fmt=fmt,
            bit_depth=bit_depth,
            channels=channels,
            click_on=targets,
            gains=gains,
            progress=advance,
        )
    if not quiet:
        clicks = int(grid.audible().sum())
        sys.stderr.write(
            f"wrote {output}: {common.format_clock(frames / sample_rate)}, "
            f"{clicks} clicks, {sample_rate} Hz, {channels} ch\n"
        )


@app.command()
def beats(
    map_file: MapArg,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="csv or json.")] = "csv",
    sample_rate: RateOpt = 48000,
    source_format: FromOpt = None,
    scale: ScaleOpt = None,
    count_in: CountInOpt = None,
    from_label: FromLabelOpt = None,
    from_bar: FromBarOpt = None,
    click_unit: ClickUnitOpt = None,
    bars: BarsOpt = None,
) -> None:
    """Print every click of MAP: time, sample, bar, beat, level, tempo, section.

    One row per click, silent ones included (level 'silent'). CSV columns:
    index,time_s,sample,bar,beat,sub,level,tempo_bpm,section

    Examples:

      ictus beats song.click

      ictus beats song.klick --format json -r 44100

      ictus beats song.click --from-label chorus --count-in 1
    """
    from ictus.formats.beatlist import write_beats
    from ictus.tempomap import build_grid

    tempo_map = common.load_map(
        map_file,
        fmt=source_format,
        scale=scale,
        count_in=count_in,
        click_unit=click_unit,
        bars=bars,
    )
    grid = build_grid(tempo_map, start_label=from_label, start_bar=from_bar)
    with common.closed_pipe_is_fine():
        # a map with a `start:` timecode adds a tenth column, timecode
        write_beats(grid, sys.stdout, fmt=fmt, rate=sample_rate, tempo_map=tempo_map)


@app.command()
def info(
    map_file: MapArg,
    source_format: FromOpt = None,
    scale: ScaleOpt = None,
    count_in: CountInOpt = None,
    click_unit: ClickUnitOpt = None,
    bars: BarsOpt = None,
) -> None:
    """Summarise MAP: duration, bars, sections and tempo range, as a table.

    Examples:

      ictus info song.click

      ictus info song.klick --scale 0.9
    """
    from ictus.cli.summary import print_summary

    tempo_map = common.load_map(
        map_file,
        fmt=source_format,
        scale=scale,
        count_in=count_in,
        click_unit=click_unit,
        bars=bars,
    )
    print_summary(tempo_map)


@app.command()
def plot(
    map_file: MapArg,
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Image file: .png or .svg (also .pdf)."
        ),
    ],
    source_format: FromOpt = None,
    scale: ScaleOpt = None,
    count_in: CountInOpt = None,
    click_unit: ClickUnitOpt = None,
    bars: BarsOpt = None,
) -> None:
    """Plot tempo over time with bar lines and section names.

    Examples:

      ictus plot song.click -o tempo.png

      ictus plot song.click -o tempo.svg --count-in 1
    """
    from ictus.cli.plotting import plot_tempo

    tempo_map = common.load_map(
        map_file,
        fmt=source_format,
        scale=scale,
        count_in=count_in,
        click_unit=click_unit,
        bars=bars,
    )
    plot_tempo(tempo_map, output)
    sys.stderr.write(f"wrote {output}\n")


@app.command()
def convert(
    source: Annotated[str, typer.Argument(metavar="IN", help="Input map (or - for stdin).")],
    dest: Annotated[str, typer.Argument(metavar="OUT", help="Output map (or - for stdout).")],
    source_format: FromOpt = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="FORMAT",
            help="click, klick, json or midi (default: by OUT's extension).",
        ),
    ] = None,
    click_unit: ClickUnitOpt = None,
    bars: BarsOpt = None,
    ppq: Annotated[
        int | None, typer.Option("--ppq", metavar="N", help="MIDI output: ticks per quarter (960).")
    ] = None,
    ramp_steps: Annotated[
        str | None,
        typer.Option(
            "--ramp-steps",
            metavar="beat|8th|16th",
            help="MIDI output: tempo steps for ramps (default beat).",
        ),
    ] = None,
    notes: Annotated[
        str | None,
        typer.Option(
            "--notes",
            metavar="LEVEL=NOTE,...",
            help="MIDI output: click notes, e.g. accent=76,normal=77,sub=77.",
        ),
    ] = None,
    velocities: Annotated[
        str | None,
        typer.Option(
            "--velocities",
            metavar="LEVEL=VEL,...",
            help="MIDI output: velocities, e.g. accent=127,normal=100,sub=70.",
        ),
    ] = None,
    tracks_per_level: Annotated[
        bool, typer.Option("--tracks-per-level", help="MIDI output: one track per click level.")
    ] = False,
    channel: Annotated[
        int | None,
        typer.Option("--channel", metavar="1-16", help="MIDI output: click channel (10)."),
    ] = None,
    overwrite_input: OverwriteInputOpt = False,
) -> None:
    """Convert a tempo map between .click, klick, JSON and MIDI (MusicXML reads too).

    MIDI output holds the tempo map (ramps as exact tempo steps), meters, markers for
    sections and cues, and the click as notes on channel 10.

    Examples:

      ictus convert song.klick song.click

      ictus convert song.click song.json

      ictus convert song.click - --to klick

      ictus convert song.click song.mid --ramp-steps 16th

      ictus convert session.mid song.click

      ictus convert score.mxl score.click
    """
    from ictus.formats import read_map, write_map

    common.overwrite_inputs(overwrite_input)
    read_options: dict[str, object] = {}
    if click_unit is not None:
        read_options["click_unit"] = click_unit
    if bars is not None:
        read_options["bars"] = bars
    tempo_map = read_map(source, source_format, **read_options)
    write_options: dict[str, object] = {}
    if ppq is not None:
        write_options["ppq"] = ppq
    if ramp_steps is not None:
        write_options["ramp_steps"] = ramp_steps
    if tracks_per_level:
        write_options["tracks_per_level"] = True
    if channel is not None:
        write_options["channel"] = channel
    if notes is not None or velocities is not None:
        from ictus.formats.midi import parse_levels

        if notes is not None:
            write_options["notes"] = parse_levels(notes, "--notes")
        if velocities is not None:
            write_options["velocities"] = parse_levels(velocities, "--velocities")
    write_map(tempo_map, dest, to, **write_options)
    if dest != "-":
        sys.stderr.write(f"wrote {dest}\n")


@app.command()
def sounds(
    preview: Annotated[
        str | None,
        typer.Option("--preview", metavar="NAME", help="Render a bar of this voice to -o."),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Where --preview writes (.wav, .flac, ...)."
        ),
    ] = None,
    sample_rate: RateOpt = 48000,
) -> None:
    """List the built-in click voices, or preview one.

    Examples:

      ictus sounds

      ictus sounds --preview cowbell -o cowbell.wav
    """
    from ictus.sounds import voice_descriptions

    if preview is None:
        from rich.console import Console
        from rich.table import Table

        table = Table("voice", "sound", title="built-in voices (--sound NAME)")
        for name, text in voice_descriptions().items():
            table.add_row(name, text)
        Console().print(table)
        return
    if output is None:
        raise IctusError("--preview needs --output/-o, e.g. -o preview.wav")
    from ictus.render import render_file
    from ictus.sounds import synth_voice
    from ictus.tempomap import Section, Tempo, TempoMap, build_grid

    voice = synth_voice(preview, sample_rate)
    grid = build_grid(TempoMap((Section(2, Tempo(100), sub=2),)))
    render_file(grid, output, voice=voice, rate=sample_rate)
    sys.stderr.write(f"wrote {output}: two bars of '{preview}' (accent, normal, sub)\n")


# commands of the other areas live in their own modules and register themselves here
from ictus.cli import film, interchange, live  # noqa: E402

for _area in (interchange, live, film):
    _area.register(app)


def _show_warning(
    message: Warning | str, category: type[Warning], *args: object, **kwargs: object
) -> None:
    # a lenient reader's note is one line for the user, not a source listing
    from ictus.errors import for_terminal

    sys.stderr.write(f"ictus: warning: {for_terminal(str(message))}\n")


def main() -> None:
    """Entry point: run the app; turn IctusErrors into one clean message and exit 1."""
    from ictus.atomic import clean_up_on_signals, forget_inputs

    forget_inputs()
    # SIGTERM, SIGHUP, ... unwind like Ctrl-C, so atomic writes remove their .part files
    clean_up_on_signals()
    warnings.showwarning = _show_warning
    try:
        with common.closed_pipe_is_fine():
            app(prog_name="ictus")
    except IctusError as err:
        common.fail(err)
        sys.exit(1)


if __name__ == "__main__":
    main()

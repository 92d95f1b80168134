"""Commands of the interchange area: ``ictus convert`` (maps between formats) and
``ictus export-markers`` (marker files a DAW imports)."""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import sys
from pathlib import Path
from typing import Annotated

import typer

from ictus.cli import common
from ictus.cli.options import (
    BarsOpt,
    ClickUnitOpt,
    CountInOpt,
    FromBarOpt,
    FromLabelOpt,
    FromOpt,
    MapArg,
    OverwriteInputOpt,
    ScaleOpt,
    area,
)

app = area()


def writable_extensions() -> list[str]:
    """The file extensions ``convert`` can write, each naming its format.

    >>> writable_extensions()
    ['.click', '.json', '.klick', '.mid', '.midi', '.rpp', '.smf', '.txt']
    """
    from ictus.formats import EXTENSIONS, FILE_WRITERS, TEXT_WRITERS

    writable = {*TEXT_WRITERS, *FILE_WRITERS}
    return sorted(ext for ext, name in EXTENSIONS.items() if name in writable)


def _output_format(dest: str, to: str | None) -> None:
    """Refuse an output whose format cannot be told (a usage mistake): ``x.klick2``."""
    from ictus.formats import FILE_WRITERS, TEXT_WRITERS

    writable = sorted({*TEXT_WRITERS, *FILE_WRITERS})
    if to is not None:
        if to not in writable:
            raise common.UsageError(
                f"--to: cannot write {to!r}; choose one of {', '.join(writable)}"
            )
        return
    if dest == "-":
        return
    ext = Path(dest).suffix.lower()
    if ext not in writable_extensions():
        raise common.UsageError(
            f"{dest}: cannot tell the map format from the extension {ext or '(none)'!r}; "
            f"use one of {' '.join(writable_extensions())} or --to {'|'.join(writable)}"
        )


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
    lossy: Annotated[
        bool,
        typer.Option("--lossy", help="klick output: drop what klick cannot say, a warning each."),
    ] = False,
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

      ictus convert song.click song.rpp

      ictus convert song.click song.klick --lossy
    """
    from ictus.formats import guess_format, write_map

    common.overwrite_inputs(overwrite_input)
    _output_format(dest, to)
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

        with common.option_values():
            if notes is not None:
                write_options["notes"] = parse_levels(notes, "--notes")
            if velocities is not None:
                write_options["velocities"] = parse_levels(velocities, "--velocities")
    tempo_map = common.load_map(source, fmt=source_format, click_unit=click_unit, bars=bars)
    if guess_format(dest, to) == "klick":
        write_options.update(_klick_options(source, source_format, lossy))
    write_map(tempo_map, dest, to, **write_options)
    if dest != "-":
        sys.stderr.write(f"wrote {dest}\n")


def _klick_options(source: str, source_format: str | None, lossy: bool) -> dict[str, object]:
    """klick output: --lossy, and the source's section lines for the messages."""
    from ictus.formats import guess_format
    from ictus.formats.klick_export import section_lines

    options: dict[str, object] = {"lossy": lossy}
    if source != "-" and guess_format(source, source_format) in ("click", "klick"):
        try:
            options["lines"] = section_lines(Path(source).read_text(encoding="utf-8"))
            options["source"] = source
        except (OSError, UnicodeDecodeError):
            pass  # it was read once already; without lines the message names the section
    return options


@app.command("export-markers")
def export_markers(
    map_file: MapArg,
    fmt: Annotated[
        str, typer.Option("--format", metavar="reaper|audacity|csv", help="File format.")
    ] = "csv",
    per: Annotated[
        str,
        typer.Option(
            "--per",
            metavar="section|bar",
            help="One region per section (default) or one marker per bar.",
        ),
    ] = "section",
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write here (default: standard output)."),
    ] = None,
    source_format: FromOpt = None,
    scale: ScaleOpt = None,
    count_in: CountInOpt = None,
    from_label: FromLabelOpt = None,
    from_bar: FromBarOpt = None,
    click_unit: ClickUnitOpt = None,
    bars: BarsOpt = None,
) -> None:
    """Write a marker file of MAP's sections or bars that a DAW imports directly.

    Use the same --scale, --count-in, --from-label and --from-bar as for the
    rendered click, so that the markers line up with it.

    Formats: audacity (label track text: File > Import > Labels), reaper
    (Region/Marker Manager CSV: View > Region/Marker Manager, right-click >
    Import; times as minutes:seconds), csv (bar,time_s,end_s,label).

    Examples:

      ictus export-markers song.click --format reaper -o markers.csv

      ictus export-markers song.click --format audacity --per bar -o labels.txt

      ictus export-markers score.mxl --count-in 1
    """
    from ictus.formats.export.markers import FORMATS, PER, write_markers

    # check the choices before the (possibly slow) map is read
    if fmt not in FORMATS:
        raise common.UsageError(f"--format: choose one of {', '.join(FORMATS)}, got {fmt!r}")
    if per not in PER:
        raise common.UsageError(f"--per: choose one of {', '.join(PER)}, got {per!r}")
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
    if output is None or output == "-":
        write_markers(grid, sys.stdout, fmt, per)
        return
    from ictus.atomic import atomic_path

    with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        write_markers(grid, f, fmt, per)
    sys.stderr.write(f"wrote {output}\n")

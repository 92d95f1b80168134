"""Commands of the interchange area, registered on the main app by :func:`register`."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app`` (heavy imports stay inside the commands)."""
    _register_markers(app)


# -- export-markers: marker and label files for DAWs -------------------------------------


def _register_markers(app: typer.Typer) -> None:
    # the options shared with `beats`, declared here: importing them from ictus.cli.main
    # would import the module that imports this one
    @app.command("export-markers")
    def export_markers(
        map_file: Annotated[
            str,
            typer.Argument(
                metavar="MAP",
                help="Tempo map or score (.click, .klick, .json, .mid, .musicxml, .mxl), "
                "or - for stdin.",
            ),
        ],
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
        source_format: Annotated[
            str | None,
            typer.Option(
                "--from",
                metavar="FORMAT",
                help="Read MAP as this format (default: by extension).",
            ),
        ] = None,
        scale: Annotated[
            str | None,
            typer.Option("--scale", help="Scale every tempo: 0.9 or 90% plays 10% slower."),
        ] = None,
        count_in: Annotated[
            str | None,
            typer.Option("--count-in", help="Count-in: '1' (bar), '2 bars', '4 beats', '0'."),
        ] = None,
        from_label: Annotated[
            str | None, typer.Option("--from-label", help="Start at the section with this label.")
        ] = None,
        from_bar: Annotated[
            int | None, typer.Option("--from-bar", help="Start at this bar (1 = first bar).")
        ] = None,
        click_unit: Annotated[
            str | None,
            typer.Option(
                "--click-unit", metavar="meter|file", help="MIDI input: the click's note value."
            ),
        ] = None,
        bars: Annotated[
            int | None, typer.Option("--bars", help="MIDI/MusicXML input: end after N bars.")
        ] = None,
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
        import sys

        from ictus.cli import common
        from ictus.formats.export.markers import FORMATS, PER, write_markers

        # check the choices before the (possibly slow) map is read
        if fmt not in FORMATS:
            raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
        if per not in PER:
            raise typer.BadParameter(f"choose one of {', '.join(PER)}", param_hint="--per")
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

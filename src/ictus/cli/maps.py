"""Commands of the map area: ``ictus beats``, ``ictus info`` and ``ictus plot`` show
what a map holds (every click, a summary, the tempo curve)."""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import itertools
import sys
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
    RateOpt,
    ScaleOpt,
    area,
)

app = area()


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
    from ictus.formats.export.beatlist import write_beats
    from ictus.tempomap.grid import grid_blocks

    tempo_map = common.load_map(
        map_file,
        fmt=source_format,
        scale=scale,
        count_in=count_in,
        click_unit=click_unit,
        bars=bars,
    )
    # a few bars at a time, never the whole grid: memory stays constant however long
    # the map (the first block is made here, so a bad start bar or label fails before
    # any row is written)
    blocks = grid_blocks(tempo_map, start_label=from_label, start_bar=from_bar)
    first = next(blocks)
    with common.closed_pipe_is_fine():
        # a map with a `start:` timecode adds a tenth column, timecode
        write_beats(
            itertools.chain((first,), blocks),
            sys.stdout,
            fmt=fmt,
            rate=sample_rate,
            tempo_map=tempo_map,
        )


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
    """Plot tempo over time with bar lines and section names (needs ictus[plot]).

    Examples:

      ictus plot song.click -o tempo.png

      ictus plot song.click -o tempo.svg --count-in 1
    """
    from ictus.cli.plotting import check_image_format, plot_tempo

    with common.option_values():
        check_image_format(output)
    common.needs("matplotlib", "ictus plot")
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

"""The ``ictus`` app: the root command, with each area's commands added to it.

Every area (:mod:`~ictus.cli.audio`, :mod:`~ictus.cli.maps`,
:mod:`~ictus.cli.interchange`, :mod:`~ictus.cli.live`, :mod:`~ictus.cli.timecode`,
:mod:`~ictus.cli.film`) is its own Typer app built from :mod:`ictus.cli.options`;
none imports another, and none imports this module.
"""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
from typing import Annotated

import typer

from ictus import __version__
from ictus.cli import audio, film, interchange, live, maps, options, timecode

app = options.area(
    "ictus",
    "Exact, programmable click tracks: tempo maps, rendering, live playback, "
    "DAW interchange, film sync.\n\n"
    "Examples:\n\n"
    "  ictus render song.click -o click.wav\n\n"
    "  ictus beats song.click --format csv\n\n"
    "  ictus info song.click\n\n"
    "  ictus plot song.click -o tempo.png\n\n"
    "  ictus play song.click --connect system:playback_3,system:playback_4\n\n"
    "  ictus film fit hits.csv --fps 24 --start 01:00:00:00 --range 100-140",
)


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


for _area in (audio.app, maps.app, interchange.app, live.app, timecode.app):
    app.add_typer(_area)
app.add_typer(film.app, name="film")

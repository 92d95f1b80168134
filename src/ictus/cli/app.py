"""The ``ictus`` app: the root command, with each area's commands added to it.

Every area (:mod:`~ictus.cli.audio`, :mod:`~ictus.cli.maps`,
:mod:`~ictus.cli.interchange`, :mod:`~ictus.cli.live`, :mod:`~ictus.cli.timecode`,
:mod:`~ictus.cli.film`) is its own Typer app built from :mod:`ictus.cli.options`;
none imports another, and none imports this module.

Typer builds every command it holds on each run (their signatures, their options),
so :func:`build` adds only the area of the command being run, and all of them for
``ictus --help`` or a mistyped command: ``ictus render`` never loads the film commands.
"""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import importlib
from collections.abc import Sequence
from typing import Annotated

import typer

from ictus import __version__
from ictus.cli import coercion, options

HELP = (
    "Exact, programmable click tracks: tempo maps, rendering, live playback, "
    "DAW interchange, film sync.\n\n"
    "Examples:\n\n"
    "  ictus render song.click -o click.wav\n\n"
    "  ictus beats song.click --format csv\n\n"
    "  ictus info song.click\n\n"
    "  ictus plot song.click -o tempo.png\n\n"
    "  ictus play song.click --connect system:playback_3,system:playback_4\n\n"
    "  ictus film fit hits.csv --fps 24 --start 01:00:00:00 --range 100-140"
)

#: The areas in the order ``ictus --help`` lists them, and the commands each holds.
AREAS: dict[str, tuple[str, ...]] = {
    "audio": ("render", "sounds"),
    "maps": ("beats", "info", "plot"),
    "interchange": ("convert", "export-markers"),
    "live": ("play", "devices"),
    "synctest": ("sync-test",),
    "web": ("serve",),
    "timecode": ("timecode",),
    "film": ("film",),  # a group: ictus film fit, ictus film sheet, ...
    "practice": ("analyze", "conform", "practice"),
    "show": ("show",),  # a group: ictus show check, ictus show run, ...
}
_AREA_OF = {command: area for area, commands in AREAS.items() for command in commands}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ictus {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Exact, programmable click tracks."""


def areas_for(args: Sequence[str]) -> list[str]:
    """The areas a command line needs: the one its command is in, else all of them.

    >>> areas_for(["render", "song.click", "-o", "x.wav"]), areas_for(["film", "fit"])
    (['audio'], ['film'])
    >>> areas_for(["--help"]) == list(AREAS)
    True
    """
    command = next((a for a in args if not a.startswith("-")), None)
    if command in _AREA_OF:
        return [_AREA_OF[command]]
    return list(AREAS)


def build(args: Sequence[str]) -> typer.Typer:
    """The root app holding the areas ``args`` needs (see :func:`areas_for`)."""
    coercion.install()  # plain options without pydantic: see ictus.cli.coercion
    app = options.area("ictus", HELP)
    app.callback()(_root)
    for name in areas_for(args):
        area: typer.Typer = importlib.import_module(f"ictus.cli.{name}").app
        if name in ("film", "show"):
            app.add_typer(area, name=name)
        else:
            app.add_typer(area)
    return app

"""The ``ictus`` app: the root command, with each area's commands added to it.

Every area (:mod:`~ictus.cli.audio`, :mod:`~ictus.cli.maps`,
:mod:`~ictus.cli.interchange`, :mod:`~ictus.cli.live`, :mod:`~ictus.cli.timecode`,
:mod:`~ictus.cli.film`) is its own Typer app built from :mod:`ictus.cli.options`;
none imports another, and none imports this module.

Typer builds every command it holds on each run (their signatures, their options),
so :func:`build` adds only the area of the command being run, and all of them for
``ictus --help`` or a mistyped command: ``ictus render`` never loads the film commands.
The areas declare their commands and options as plain data (:mod:`ictus.cli.options`);
:func:`build` turns them into Typer's, and is the only place that imports Typer.
"""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import functools
import importlib
import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from ictus import __version__
from ictus.cli import coercion, options

if TYPE_CHECKING:
    import typer

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
        import typer

        typer.echo(f"ictus {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        options.Option(
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


def build(args: Sequence[str]) -> "typer.Typer":
    """The root app holding the areas ``args`` needs (see :func:`areas_for`)."""
    coercion.install()  # plain options without pydantic: see ictus.cli.coercion
    app = typer_app(options.Area("ictus", HELP))
    app.callback()(for_typer(_root))
    for name in areas_for(args):
        area: options.Area = importlib.import_module(f"ictus.cli.{name}").app
        app.add_typer(typer_app(area), name=area.name)
    return app


def typer_app(area: options.Area) -> "typer.Typer":
    """The Typer app of ``area``: its commands, with their options made Typer's.

    Every app is set up alike: ``-h`` for help, plain help text, no completion.
    """
    import typer

    app = typer.Typer(
        name=area.name,
        help=area.help,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    for name, func in area.commands:
        app.command(name)(for_typer(func))
    return app


def for_typer(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` as Typer reads it: its :class:`~ictus.cli.options.Option` and
    :class:`~ictus.cli.options.Argument` annotations become ``typer.Option`` and
    ``typer.Argument`` (with the same settings); everything else is left as it is."""
    signature = inspect.signature(func, eval_str=True)
    parameters = [
        p.replace(annotation=_typer_annotation(p.annotation)) for p in signature.parameters.values()
    ]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    # Typer reads the signature (inspect.signature honours __signature__)
    command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return command


def _typer_annotation(annotation: Any) -> Any:
    if get_origin(annotation) is not Annotated:
        return annotation
    import typer

    base, *extras = get_args(annotation)
    made: list[Any] = []
    for extra in extras:
        if isinstance(extra, options.Option):
            made.append(typer.Option(*extra.decls, **dict(extra.settings)))
        elif isinstance(extra, options.Argument):
            made.append(typer.Argument(**dict(extra.settings)))
        else:
            made.append(extra)
    return Annotated[(base, *made)]

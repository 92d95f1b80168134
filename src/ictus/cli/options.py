"""The options several commands share, declared once: every command area imports them.

A command names an option by its type here (``scale: ScaleOpt = None``), so ``--scale``
reads and helps the same in ``render``, ``play``, ``beats``, ``export-markers`` and the
film commands.

The declarations are plain data (:class:`Option`, :class:`Argument`, :class:`Area`),
with no Typer in them: :mod:`ictus.cli.app` hands them to Typer, and
:mod:`ictus.cli.quick` reads the same ones to run ``ictus render`` without building
Typer's app (a fifth of the start-up). This module imports nothing heavy.
"""

# no ``from __future__ import annotations``: Typer reads these aliases at run time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


# plain classes, not dataclasses: making a dataclass costs 0.3 ms of start-up each
class Option:
    """``Option(*decls, **settings)``, declared without importing Typer.

    >>> Option("--sample-rate", "-r", metavar="HZ").settings
    (('metavar', 'HZ'),)
    """

    __slots__ = ("decls", "settings")

    def __init__(self, *decls: str, **settings: Any) -> None:
        self.decls = decls
        self.settings = tuple(settings.items())


class Argument:
    """``Argument(**settings)``, declared without importing Typer."""

    __slots__ = ("settings",)

    def __init__(self, **settings: Any) -> None:
        self.settings = tuple(settings.items())


class Area:
    """The commands of one area, as Typer would hold them (``@app.command()``).

    :func:`ictus.cli.app.build` makes the Typer app of the areas a run needs; a named
    area is a command group (``ictus film ...``). With ``quick``, its commands may run
    without Typer (:mod:`ictus.cli.quick`): they then raise nothing of Typer's and take
    their options from this module's :class:`Option` and :class:`Argument`.
    """

    def __init__(self, name: str | None = None, help: str | None = None, *, quick: bool = False):
        self.name, self.help, self.quick = name, help, quick
        #: (the name given to ``command()`` or None, the function), in order
        self.commands: list[tuple[str | None, Callable[..., Any]]] = []

    def command(self, name: str | None = None) -> Callable[[F], F]:
        """Register a command; the function is returned as it is."""

        def register(func: F) -> F:
            self.commands.append((name, func))
            return func

        return register

    def names(self) -> list[str]:
        """The command names, as Typer makes them (``export_markers`` -> ``export-markers``)."""
        return [name or func.__name__.lower().replace("_", "-") for name, func in self.commands]


#: The built-in voice a command uses when neither --sound nor --sound-file is given: the
#: name of ``ictus.sounds.DEFAULT_VOICE``, spelled out because this module must start
#: without numpy (tests/test_cli_structure.py checks that the two agree).
DEFAULT_SOUND = "woodblock"

# -- reading a map ------------------------------------------------------------------------

MapArg = Annotated[
    str,
    Argument(
        metavar="MAP", help="Tempo map (.click .klick .json .mid .musicxml .mxl) or - for stdin."
    ),
]
FromOpt = Annotated[
    str | None,
    Option(
        "--from",
        metavar="FORMAT",
        help="Read MAP as click, klick, json, midi or musicxml (default: by extension).",
    ),
]
ScaleOpt = Annotated[
    str | None,
    Option("--scale", metavar="FACTOR", help="Scale every tempo: 0.9 or 90% plays 10% slower."),
]
CountInOpt = Annotated[
    str | None,
    Option(
        "--count-in",
        metavar="N[ bars|beats]",
        help="Count-in: '1' (bar), '2 bars', '4 beats', '0' for none; overrides the map's.",
    ),
]
FromLabelOpt = Annotated[
    str | None,
    Option("--from-label", metavar="LABEL", help="Start at the section with this label."),
]
FromBarOpt = Annotated[
    int | None,
    Option("--from-bar", metavar="BAR", help="Start at this bar (1 = first bar of the map)."),
]
ClickUnitOpt = Annotated[
    str | None,
    Option(
        "--click-unit",
        metavar="meter|file",
        help="MIDI input: click every 1/denominator pulse (meter, default) "
        "or follow the file's clocks_per_click (file).",
    ),
]
BarsOpt = Annotated[
    int | None,
    Option("--bars", metavar="N", help="MIDI/MusicXML input: end the map after this many bars."),
]

# -- the sound ----------------------------------------------------------------------------

RateOpt = Annotated[int, Option("--sample-rate", "-r", metavar="HZ", help="Sample rate in Hz.")]
SoundOpt = Annotated[
    str | None,
    Option(
        "--sound",
        metavar="NAME",
        help=f"Built-in voice (default {DEFAULT_SOUND}); see 'ictus sounds'.",
    ),
]
SoundFileOpt = Annotated[
    str | None,
    Option(
        "--sound-file",
        metavar="ACCENT[,NORMAL[,SUB]]",
        help="Your own samples per level; one file serves several levels.",
    ),
]
GainOpt = Annotated[
    str | None,
    Option(
        "--gain",
        metavar="LEVEL=DB,...",
        help="Gain per level in dB, e.g. accent=0,normal=-3,sub=-9.",
    ),
]
CountInSoundOpt = Annotated[
    str | None,
    Option(
        "--count-in-sound",
        metavar="NAME",
        help="Built-in voice for the count-in clicks (default: the click's own).",
    ),
]
OversOpt = Annotated[
    str,
    Option(
        "--overs",
        metavar="warn|fit|refuse",
        help="When the click would peak over full scale: warn (default; 32-bit float "
        "and live keep overs, 16/24-bit and lossy files clip), fit (turn it down to "
        "fit), refuse (stop).",
    ),
]
ClickOnOpt = Annotated[
    str | None,
    Option(
        "--click-on",
        metavar="CH,...",
        help="Channels (from 1) that carry the click; default all.",
    ),
]

# -- picture ------------------------------------------------------------------------------

FRAME_RATES = "23.976, 24, 25, 29.97 (drop-frame), 29.97ndf, 30, 48, 50, 59.94 (DF), 59.94ndf, 60"

FpsOpt = Annotated[
    str,
    Option("--fps", metavar="RATE", help=f"Frame rate: {FRAME_RATES}."),
]
GaugeOpt = Annotated[
    str, Option("--gauge", metavar="35mm|16mm", help="Film gauge for feet+frames.")
]

# -- output -------------------------------------------------------------------------------

QuietOpt = Annotated[bool, Option("--quiet", "-q", help="No progress bar or summary.")]
OverwriteInputOpt = Annotated[
    bool,
    Option("--overwrite-input", help="Let the output replace an input file (refused otherwise)."),
]


# -- practice trainers (ictus play, ictus render) ------------------------------------------

GapOpt = Annotated[
    str | None,
    Option(
        "--gap",
        metavar="PLAY:MUTE|SHARE%",
        help="Gap click: play PLAY bars, mute MUTE bars, again (3:1); or mute SHARE% of "
        "the bars, chosen by --seed. Muted bars keep time.",
    ),
]
SeedOpt = Annotated[
    int | None,
    Option(
        "--seed", metavar="N", help="Which bars --gap SHARE% mutes (the same every run)."
    ),
]
SpeedTrainerOpt = Annotated[
    str | None,
    Option(
        "--speed-trainer",
        metavar="[START]+STEP[/N]..END",
        help="Speed trainer: STEP BPM faster every N bars (with --loop: every N "
        "repetitions) up to END, from START (default: each section's tempo); "
        "e.g. 80+4/2..120. A minus step slows down.",
    ),
]


def area(name: str | None = None, help: str | None = None, *, quick: bool = False) -> Area:
    """The commands of one area; a named area is a command group (``ictus film ...``)."""
    return Area(name, help, quick=quick)

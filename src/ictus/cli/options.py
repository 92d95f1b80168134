"""The options several commands share, declared once: every command area imports them.

A command names an option by its type here (``scale: ScaleOpt = None``), so ``--scale``
reads and helps the same in ``render``, ``play``, ``beats``, ``export-markers`` and the
film commands. The module imports only Typer: the areas import it at start-up.
"""

# no ``from __future__ import annotations``: Typer reads these aliases at run time
from typing import Annotated

import typer

#: The built-in voice a command uses when neither --sound nor --sound-file is given: the
#: name of ``ictus.sounds.DEFAULT_VOICE``, spelled out because this module must start
#: without numpy (tests/test_cli_structure.py checks that the two agree).
DEFAULT_SOUND = "woodblock"

# -- reading a map ------------------------------------------------------------------------

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

# -- the sound ----------------------------------------------------------------------------

RateOpt = Annotated[
    int, typer.Option("--sample-rate", "-r", metavar="HZ", help="Sample rate in Hz.")
]
SoundOpt = Annotated[
    str | None,
    typer.Option(
        "--sound",
        metavar="NAME",
        help=f"Built-in voice (default {DEFAULT_SOUND}); see 'ictus sounds'.",
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
GainOpt = Annotated[
    str | None,
    typer.Option(
        "--gain",
        metavar="LEVEL=DB,...",
        help="Gain per level in dB, e.g. accent=0,normal=-3,sub=-9.",
    ),
]
CountInSoundOpt = Annotated[
    str | None,
    typer.Option(
        "--count-in-sound",
        metavar="NAME",
        help="Built-in voice for the count-in clicks (default: the click's own).",
    ),
]
OversOpt = Annotated[
    str,
    typer.Option(
        "--overs",
        metavar="warn|fit|refuse",
        help="When the click would peak over full scale: warn (default; 32-bit float "
        "and live keep overs, 16/24-bit and lossy files clip), fit (turn it down to "
        "fit), refuse (stop).",
    ),
]
ClickOnOpt = Annotated[
    str | None,
    typer.Option(
        "--click-on",
        metavar="CH,...",
        help="Channels (from 1) that carry the click; default all.",
    ),
]

# -- picture ------------------------------------------------------------------------------

FRAME_RATES = "23.976, 24, 25, 29.97 (drop-frame), 29.97ndf, 30, 48, 50, 59.94 (DF), 59.94ndf, 60"

FpsOpt = Annotated[
    str,
    typer.Option("--fps", metavar="RATE", help=f"Frame rate: {FRAME_RATES}."),
]
GaugeOpt = Annotated[
    str, typer.Option("--gauge", metavar="35mm|16mm", help="Film gauge for feet+frames.")
]

# -- output -------------------------------------------------------------------------------

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")]
OverwriteInputOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite-input", help="Let the output replace an input file (refused otherwise)."
    ),
]


def area(name: str | None = None, help: str | None = None) -> typer.Typer:
    """A Typer app for one command area, set up like the root one (``-h``, plain help).

    A named area is a command group (``ictus film ...``); an unnamed one adds its
    commands to the root.
    """
    return typer.Typer(
        name=name,
        help=help,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

# -- practice trainers (ictus play, ictus render) ------------------------------------------

GapOpt = Annotated[
    str | None,
    typer.Option(
        "--gap",
        metavar="PLAY:MUTE|SHARE%",
        help="Gap click: play PLAY bars, mute MUTE bars, again (3:1); or mute SHARE% of "
        "the bars, chosen by --seed. Muted bars keep time.",
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed", metavar="N", help="Which bars --gap SHARE% mutes (the same every run)."
    ),
]
SpeedTrainerOpt = Annotated[
    str | None,
    typer.Option(
        "--speed-trainer",
        metavar="[START]+STEP[/N]..END",
        help="Speed trainer: STEP BPM faster every N bars (with --loop: every N "
        "repetitions) up to END, from START (default: each section's tempo); "
        "e.g. 80+4/2..120. A minus step slows down.",
    ),
]

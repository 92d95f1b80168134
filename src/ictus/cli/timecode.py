"""Command of the timecode area: ``ictus timecode`` converts timecode labels, frame
counts, seconds and feet+frames (:mod:`ictus.timebase` does the arithmetic)."""

# no ``from __future__ import annotations``: Typer reads the annotations at run time
import json
from fractions import Fraction
from typing import Annotated, Any

import typer

from ictus.cli.options import FpsOpt, GaugeOpt, area

app = area()


def seconds_text(value: Fraction) -> str:
    """An exact decimal when there is one, else 9 places and the exact fraction.

    >>> seconds_text(Fraction(3, 2)), seconds_text(Fraction(1001, 24000))
    ('1.5', '0.041708333 (1001/24000)')
    """
    from ictus.timebase import format_number

    text = format_number(value)
    if "/" not in text:
        return text
    return f"{float(value):.9f} ({text})"


@app.command("timecode")
def timecode(
    label: Annotated[
        str | None,
        typer.Argument(metavar="[LABEL]", help="A timecode such as 01:00:00:00 (;FF for DF)."),
    ] = None,
    fps: FpsOpt = "24",
    frames: Annotated[
        int | None, typer.Option("--frames", metavar="N", help="Print the label of frame N.")
    ] = None,
    seconds: Annotated[
        str | None,
        typer.Option("--seconds", metavar="S", help="Print the label of the frame at S seconds."),
    ] = None,
    feet: Annotated[
        str | None,
        typer.Option("--feet", metavar="FEET+FRAMES", help="Print the label of a footage."),
    ] = None,
    picture_start: Annotated[
        str,
        typer.Option(
            "--picture-start", metavar="TIMECODE", help="Where 0+00 is, for --feet and feet."
        ),
    ] = "01:00:00:00",
    gauge: GaugeOpt = "35mm",
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Convert between timecode labels, frame counts, seconds and feet+frames.

    With LABEL: prints its frame number (from 00:00:00:00), its exact real time in
    seconds and its feet+frames from --picture-start (0+00). With --frames N: prints
    the label of frame N (';' before the frames at drop-frame rates). A label that
    does not exist at the rate (00:01:00;00 at 29.97 drop-frame) is an error.
    29.97 and 59.94 mean drop-frame; add ndf for non-drop.

    Examples:

      ictus timecode 01:00:00:00 --fps 29.97ndf

      ictus timecode 01:00:10:00 --fps 24 --gauge 16mm

      ictus timecode --frames 1800 --fps 29.97

      ictus timecode --seconds 60.06 --fps 29.97ndf

      ictus timecode --feet 12+00 --fps 24 --picture-start 01:00:00:00
    """
    from ictus.cli.common import UsageError, option_values
    from ictus.timebase import (
        PictureStart,
        format_timecode,
        frames_to_seconds,
        parse_gauge,
        parse_rate,
        parse_timecode,
        seconds_to_frames,
    )

    given = [x is not None for x in (label, frames, seconds, feet)]
    if sum(given) != 1:
        raise UsageError("give one of LABEL, --frames, --seconds or --feet")
    if fmt not in ("text", "json"):
        raise UsageError(f"--format: choose text or json, got {fmt!r}")
    with option_values():
        rate = parse_rate(fps)
        reel = PictureStart.from_timecode(picture_start, rate, parse_gauge(gauge))
    if label is not None:
        frame = parse_timecode(label, rate)
    elif frames is not None:
        frame = frames
    elif seconds is not None:
        frame = seconds_to_frames(seconds, rate, "floor")
    else:
        assert feet is not None
        frame = reel.to_frame(feet)
    text_label = format_timecode(frame, rate)
    exact = frames_to_seconds(frame, rate)
    # footage counts from picture start (0+00); earlier frames have none
    footage = reel.to_feet(frame) if frame >= reel.start_frame else None
    if fmt == "json":
        data: dict[str, Any] = {
            "label": text_label,
            "frame": frame,
            "seconds": float(exact),
            "seconds_exact": f"{exact.numerator}/{exact.denominator}",
            "feet": footage,
            "picture_start": format_timecode(reel.start_frame, rate),
            "rate": rate.name,
        }
        typer.echo(json.dumps(data))
        return
    if label is not None:
        typer.echo(f"frame {frame}")
        typer.echo(f"seconds {seconds_text(exact)}")
        where = f"from picture start {format_timecode(reel.start_frame, rate)}, {reel.gauge}"
        if footage is None:
            typer.echo(f"feet none: before picture start ({where})")
        else:
            typer.echo(f"feet {footage} ({where})")
    else:
        typer.echo(text_label)

"""Exact film time: frame rates, timecode, feet+frames and frame clicks.

Everything here is exact (:class:`~fractions.Fraction`) and free of floats, so that
a frame, a label and a tempo mean the same thing in every output:

- :mod:`~ictus.timebase.rates`: :class:`FrameRate` (23.976 is 24000/1001 fps) and
  :func:`parse_rate`.
- :mod:`~ictus.timebase.timecode`: timecode labels <-> frame counts <-> seconds,
  including drop-frame (labels are not seconds: 01:00:00:00 at 29.97 NDF is 3603.6 s).
- :mod:`~ictus.timebase.feet`: feet+frames from picture start (35 mm: 16 frames/foot).
- :mod:`~ictus.timebase.frameclick`: frame clicks ``F-e`` (frames + eighths per beat).
- :mod:`~ictus.timebase.numbers`: the one rule for user numbers (``133.33`` is
  13333/100 however it is written) and the shortest exact decimal back.

Examples
--------
>>> from ictus.timebase import parse_rate, parse_timecode, frames_to_seconds
>>> rate = parse_rate("29.97ndf")
>>> frames_to_seconds(parse_timecode("00:01:00:00", rate), rate) * 120 / 60  # beat at 120 BPM
Fraction(3003, 25)
"""

from typing import TYPE_CHECKING

from ictus.timebase.numbers import (
    Number,
    Rounding,
    exact_number,
    format_number,
    round_fraction,
)

if TYPE_CHECKING:
    from ictus.timebase.feet import (
        GAUGE_16MM,
        GAUGE_35MM,
        GAUGES,
        FilmGauge,
        PictureStart,
        feet_per_minute,
        format_feet,
        parse_feet,
        parse_gauge,
    )
    from ictus.timebase.frameclick import (
        FrameClick,
        bpm_to_click,
        bpm_to_frames,
        click_to_bpm,
        format_click,
        parse_click,
    )
    from ictus.timebase.rates import (
        FPS_23_976,
        FPS_24,
        FPS_25,
        FPS_29_97_DF,
        FPS_29_97_NDF,
        FPS_30,
        FPS_48,
        FPS_50,
        FPS_59_94_DF,
        FPS_59_94_NDF,
        FPS_60,
        RATE_CHOICES,
        RATES,
        FrameRate,
        parse_rate,
    )
    from ictus.timebase.timecode import (
        Timecode,
        format_timecode,
        frames_per_day,
        frames_to_seconds,
        parse_timecode,
        seconds_to_frames,
        seconds_to_timecode,
        timecode_to_seconds,
    )

#: Names of the modules loaded on first use (frame rates, timecode, feet+frames, frame
#: clicks): a plain render needs none of them, and ictus's start-up is measured (issue 9).
_LATER = {
    "FPS_23_976": "rates",
    "FPS_24": "rates",
    "FPS_25": "rates",
    "FPS_29_97_DF": "rates",
    "FPS_29_97_NDF": "rates",
    "FPS_30": "rates",
    "FPS_48": "rates",
    "FPS_50": "rates",
    "FPS_59_94_DF": "rates",
    "FPS_59_94_NDF": "rates",
    "FPS_60": "rates",
    "RATE_CHOICES": "rates",
    "RATES": "rates",
    "FrameRate": "rates",
    "parse_rate": "rates",
    "Timecode": "timecode",
    "format_timecode": "timecode",
    "frames_per_day": "timecode",
    "frames_to_seconds": "timecode",
    "parse_timecode": "timecode",
    "seconds_to_frames": "timecode",
    "seconds_to_timecode": "timecode",
    "timecode_to_seconds": "timecode",
    "GAUGE_16MM": "feet",
    "GAUGE_35MM": "feet",
    "GAUGES": "feet",
    "FilmGauge": "feet",
    "PictureStart": "feet",
    "feet_per_minute": "feet",
    "format_feet": "feet",
    "parse_feet": "feet",
    "parse_gauge": "feet",
    "FrameClick": "frameclick",
    "bpm_to_click": "frameclick",
    "bpm_to_frames": "frameclick",
    "click_to_bpm": "frameclick",
    "format_click": "frameclick",
    "parse_click": "frameclick",
}


def __getattr__(name: str) -> object:
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"ictus.timebase.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "FPS_23_976",
    "FPS_24",
    "FPS_25",
    "FPS_29_97_DF",
    "FPS_29_97_NDF",
    "FPS_30",
    "FPS_48",
    "FPS_50",
    "FPS_59_94_DF",
    "FPS_59_94_NDF",
    "FPS_60",
    "GAUGES",
    "GAUGE_16MM",
    "GAUGE_35MM",
    "RATES",
    "RATE_CHOICES",
    "FilmGauge",
    "FrameClick",
    "FrameRate",
    "Number",
    "PictureStart",
    "Rounding",
    "Timecode",
    "bpm_to_click",
    "bpm_to_frames",
    "click_to_bpm",
    "exact_number",
    "feet_per_minute",
    "format_click",
    "format_feet",
    "format_number",
    "format_timecode",
    "frames_per_day",
    "frames_to_seconds",
    "parse_click",
    "parse_feet",
    "parse_gauge",
    "parse_rate",
    "parse_timecode",
    "round_fraction",
    "seconds_to_frames",
    "seconds_to_timecode",
    "timecode_to_seconds",
]

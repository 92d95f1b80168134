"""Offline rendering: the block mixer shared with the live engine, and the file writer."""

from ictus.render.mixer import DEFAULT_GAINS, BlockMixer, parse_channels
from ictus.render.writer import BIT_DEPTHS, FORMATS, guess_audio_format, render_file, subtype_for

__all__ = [
    "BIT_DEPTHS",
    "DEFAULT_GAINS",
    "FORMATS",
    "BlockMixer",
    "guess_audio_format",
    "parse_channels",
    "render_file",
    "subtype_for",
]

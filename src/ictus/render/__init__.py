"""Offline rendering: the block mixer shared with the live engine, the one routing path
from sources to channels (with the clipping rule), and the file writer."""

from ictus.render.headroom import Overs, OversError, OversWarning, Peak, check_headroom, click_peak
from ictus.render.mixer import DEFAULT_GAINS, BlockMixer, parse_channels
from ictus.render.routing import (
    FLOAT,
    LOSSY,
    PCM_16,
    PCM_24,
    Coding,
    Router,
    Routing,
    SourceBlock,
    coding_for,
)
from ictus.render.writer import BIT_DEPTHS, FORMATS, guess_audio_format, render_file, subtype_for

__all__ = [
    "BIT_DEPTHS",
    "DEFAULT_GAINS",
    "FLOAT",
    "FORMATS",
    "LOSSY",
    "PCM_16",
    "PCM_24",
    "BlockMixer",
    "Coding",
    "Overs",
    "OversError",
    "OversWarning",
    "Peak",
    "Router",
    "Routing",
    "SourceBlock",
    "check_headroom",
    "click_peak",
    "coding_for",
    "guess_audio_format",
    "parse_channels",
    "render_file",
    "subtype_for",
]

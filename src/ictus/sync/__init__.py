"""Sync outputs that other machines follow: timecode and clocks on the engine's grid.

- :mod:`~ictus.sync.ltc`: Linear Timecode (SMPTE 12M) as audio, rendered from the
  sample position alone so that blocks join seamlessly and locates need no state.

This package sits beside :mod:`ictus.engine` in the layer list: it may import
:mod:`ictus.timebase` and numpy; the engine calls its sources from the audio callback.

Examples
--------
>>> from ictus.sync import LtcSignal
>>> from ictus.timebase import FPS_25
>>> LtcSignal(FPS_25, 48000).frame_start(25)
48000
"""

from ictus.sync.ltc import (
    LTC_RATES,
    SYNC_WORD,
    LtcSignal,
    LtcSource,
    ltc_word,
    parity_bit,
    write_ltc_wav,
)

__all__ = [
    "LTC_RATES",
    "SYNC_WORD",
    "LtcSignal",
    "LtcSource",
    "ltc_word",
    "parity_bit",
    "write_ltc_wav",
]

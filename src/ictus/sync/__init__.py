"""Sync outputs that other machines follow: timecode and clocks on the engine's grid.

- :mod:`~ictus.sync.ltc`: Linear Timecode (SMPTE 12M) as audio, rendered from the
  sample position alone so that blocks join seamlessly and locates need no state.
- :mod:`~ictus.sync.midiclock`: MIDI clock (24 a quarter, start/stop/continue, Song
  Position Pointer) on the timeline's grid, each message on its exact sample.
- :mod:`~ictus.sync.mtc`: MIDI Time Code quarter frames and full frames on their samples.
- :mod:`~ictus.sync.jackmidi`: writes a block's messages into a JACK MIDI port.
- :mod:`~ictus.sync.link`: Ableton Link, leading a session from the map or following
  one; its binding, the optional extra ``link``, is imported only when a session is
  made (docs/LINK.md).

This package sits beside :mod:`ictus.engine` in the layer list: it may import
:mod:`ictus.timebase`, :mod:`ictus.tempomap` (the timeline) and numpy; the engine calls
its sources and event outputs from the audio callback.

Examples
--------
>>> from ictus.sync import LtcSignal
>>> from ictus.timebase import FPS_25
>>> LtcSignal(FPS_25, 48000).frame_start(25)
48000
"""

from ictus.sync.jackmidi import JackMidiWriter, list_midi_ports, open_midi_output
from ictus.sync.ltc import (
    LTC_RATES,
    SYNC_WORD,
    LtcSignal,
    LtcSource,
    ltc_word,
    parity_bit,
    write_ltc_wav,
)
from ictus.sync.midiclock import (
    Anchor,
    MidiClock,
    MidiClockOutput,
    decode_song_position,
    song_position,
)
from ictus.sync.mtc import MTC_RATES, MtcClock, MtcOutput

__all__ = [
    "LTC_RATES",
    "MTC_RATES",
    "SYNC_WORD",
    "Anchor",
    "JackMidiWriter",
    "LtcSignal",
    "LtcSource",
    "MidiClock",
    "MidiClockOutput",
    "MtcClock",
    "MtcOutput",
    "decode_song_position",
    "list_midi_ports",
    "ltc_word",
    "open_midi_output",
    "parity_bit",
    "song_position",
    "write_ltc_wav",
]

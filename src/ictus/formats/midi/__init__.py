"""Standard MIDI Files: tempo maps in (:func:`read_midi`) and out (:func:`write_midi`).

Reading and writing use mido for the messages; every tick -> time conversion is exact
(fractions), and the writer takes its times from the tempo map's own grid and closed
forms, so an exported file's beats and an imported file's downbeats agree with
:func:`~ictus.tempomap.build_grid` (docs/REFERENCE.md section 3).
"""

from ictus.formats.midi.reader import MidiWarning, read_midi
from ictus.formats.midi.smf import MidiFileError
from ictus.formats.midi.writer import parse_levels, write_midi

__all__ = ["MidiFileError", "MidiWarning", "parse_levels", "read_midi", "write_midi"]

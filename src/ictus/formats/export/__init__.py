"""Exports of a grid: files other programs read, which ictus does not read back as maps.

The readers and writers of tempo maps (``.click``, klick, JSON, MIDI, MusicXML) live in
:mod:`ictus.formats`; what is here turns a map's grid into something else:

- :mod:`~ictus.formats.export.beatlist`: every click as CSV or JSON (``ictus beats``);
- :mod:`~ictus.formats.export.markers`: marker and label files for DAWs (REAPER,
  Audacity, CSV: ``ictus export-markers``);
- :mod:`~ictus.formats.export.reaper`: a REAPER project with the tempo envelope,
  regions and cue markers (``ictus convert song.click song.rpp``);
- :mod:`~ictus.formats.export.game`: bar/beat cue points and whole-bar loops for game
  engines, and the loop-drift check (``ictus film cues``).
"""

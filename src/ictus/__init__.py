"""ictus: exact, programmable click tracks.

One exact grid feeds every output: a :class:`~ictus.tempomap.TempoMap` (the music's
bars, meters, tempos and ramps) becomes a :class:`~ictus.tempomap.ClickGrid` (every
click's time, sample, bar and beat), which the renderer, the live engine and every
exporter read.
"""

__version__ = "0.1.0"

"""Practice and analysis: how a take sat against the click, and a click from a recording.

=====================  ==================================================================
module                 holds
=====================  ==================================================================
``onsets``             where notes start: librosa's (or aubio's) onset detector, refined
                       to the sample on the waveform; :class:`MissingExtraError` names the
                       extra to install
``timing``             notes matched to the grid's clicks; early/late per note, bar,
                       section; drift; the offset when unknown; the JSON report
``plot``               deviation over time with bar lines, sections and drift (matplotlib)
``conform``            beats of a recording without a click -> bars -> a tempo map
``takes``              synthetic takes with known timing and drum loops with known beats
``recording``          reading a recording as mono samples
=====================  ==================================================================

The analysis libraries are the optional extra ``practice`` (``pip install
'ictus[practice]'``), imported only when a detector or tracker runs.

Not here yet: ``ictus practice MAP --input ...`` (record through the engine while the
click plays, then analyse). It needs the engine's recording API, which lands later; when
it does, the recorded input and the grid share the transport's clock, so the offset is
the engine's measured round-trip latency instead of ``find_offset``, and the analysis is
:func:`ictus.practice.timing.analyze` on :func:`ictus.practice.onsets.detect_onsets` of
the recorded block stream, exactly as ``ictus analyze`` runs it on a file.

>>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
>>> from ictus.practice.timing import analyze
>>> grid = build_grid(TempoMap((Section(1, Tempo(120)),)))
>>> round(analyze(grid.time + 0.2 - 0.004, grid, offset=0.2).overall.mean * 1000, 3)
-4.0
"""

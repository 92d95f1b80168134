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
``session``            where the played grid sits in a take recorded through the engine
=====================  ==================================================================

The analysis libraries are the optional extra ``practice`` (``pip install
'ictus[practice]'``), imported only when a detector or tracker runs.

``ictus practice MAP --input ...`` records the take through the engine's own inputs
while the click plays (:class:`ictus.engine.TakeRecorder`) and measures it with
:func:`ictus.practice.timing.analyze`, placed by the transport's start and the latency
the backend reports (``session``) instead of :func:`~ictus.practice.timing.find_offset`.

>>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
>>> from ictus.practice.timing import analyze
>>> grid = build_grid(TempoMap((Section(1, Tempo(120)),)))
>>> round(analyze(grid.time + 0.2 - 0.004, grid, offset=0.2).overall.mean * 1000, 3)
-4.0
"""

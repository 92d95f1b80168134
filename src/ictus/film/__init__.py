"""Film scoring: hit points, tempo fitting, click sheets, streamers.

Everything here reads the one click grid (:mod:`ictus.tempomap`) and the exact film time
of :mod:`ictus.timebase`; nothing computes tempo into time on its own.

- :mod:`~ictus.film.hits`: hit points from CSV and from marker exports (REAPER, Pro
  Tools, Avid, EDL locators).
- :mod:`~ictus.film.fit`: a tempo that puts the hits on the beat (docs/REFERENCE.md section 5),
  ranked; :mod:`~ictus.film.fitmap` fits a whole map with changes and ramps.
- :mod:`~ictus.film.picture`: where each click falls in picture (timecode, feet+frames).
- :mod:`~ictus.film.sheet`: the music editor's click sheet (CSV, HTML, PDF).
- :mod:`~ictus.film.streamers` and :mod:`~ictus.film.video`: streamers, punches and
  flutters, rendered with the click to a preview video (PyAV, imported lazily).

Game cue points and loops are an export of the grid: :mod:`ictus.formats.export.game`.

A film walkthrough, from spotting notes to the scoring stage (24 fps picture, the cue
starting at 01:00:00:00)::

    # hits.csv -- timecode,label,weight,grid
    # 01:00:04:00,door slam,2,beat
    # 01:00:08:00,car pulls up,1,beat
    # 01:00:12:00,kiss,1,8th
    # 01:00:14:00,cut to black,3,beat

    ictus film fit hits.csv --fps 24 --start 01:00:00:00 --range 100-140
    ictus film fit hits.csv --fps 24 --start 01:00:00:00 --range 100-140 \\
        --mode click -o cue.click          # the best frame click, warning bar, start
    ictus film fit hits.csv --fps 24 --start 01:00:00:00 --range 90-150 --map -o cue.click
                                           # tempo changes and ramps when one tempo fails
    ictus film sheet cue.click --hits hits.csv -o sheet.pdf
    ictus film video cue.click --hits hits.csv --picture reel1.mov -o preview.mp4
    ictus render cue.click -o click.wav
"""

from ictus.film.fit import Candidate, HitResult, fit_tempo
from ictus.film.hits import GRIDS, Hit, read_hits

__all__ = ["GRIDS", "Candidate", "Hit", "HitResult", "fit_tempo", "read_hits"]

"""``ictus play --loop verse --speed-trainer``: each time round the loop is faster.

A JACK server of the test's own, in freewheel, records what ``ictus play`` sends. The
truth is written by hand, independently of the trainer: the verse once at each tempo
``start + k * step``, capped at the end tempo, as plain sections, rendered offline by
``ictus render``. The live loop must be those samples, and its bar lines must fall
where the tempos put them (a 4/4 bar at T lasts 240/T s).
"""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from jackserver import have_jackd, record_looping_play

ICTUS = str(Path(sys.executable).parent / "ictus")

SONG = """\
intro:  1 4/4 240
verse:  1 4/4 120 X.x.
chorus: 2 4/4 90 sub=2
"""
#: 120, 150, 180, then 200 (180 + 30 = 210 is capped) for good: by hand, no trainer
TRUTH = """\
1 4/4 120 X.x.
1 4/4 150 X.x.
1 4/4 180 X.x.
4 4/4 200 X.x.
"""
TEMPOS = [120, 150, 180, 200, 200, 200, 200]
RATE = 48000


@pytest.mark.jack
@pytest.mark.skipif(not have_jackd(), reason="jackd is not installed (make test installs it)")
def test_each_repetition_of_the_loop_is_faster_up_to_the_end_tempo(tmp_path):
    import soundfile

    song = tmp_path / "drill.click"
    song.write_text(SONG)
    truth_map = tmp_path / "truth.click"
    truth_map.write_text(TRUTH)
    out = tmp_path / "truth.wav"
    proc = subprocess.run(
        [ICTUS, "render", str(truth_map), "-o", str(out), "--bit-depth", "32f", "-q"],
        capture_output=True, text=True, env=dict(os.environ), check=False,
    )
    assert proc.returncode == 0, proc.stderr
    truth, rate = soundfile.read(out, dtype="float32")
    bar_lines = [0]
    for tempo in TEMPOS:
        bar_lines.append(bar_lines[-1] + int(Fraction(240, tempo) * RATE))
    # 96000, 76800, 64000, then 57600 samples a bar: whole samples, no rounding
    assert np.diff(bar_lines).tolist() == [96000, 76800, 64000] + [57600] * 4
    assert rate == RATE and len(truth) == bar_lines[-1]

    recorded = record_looping_play(
        song, 12.0, "drill", "--loop", "verse", "--speed-trainer", "+30..200"
    )
    sounding = np.flatnonzero(recorded)
    assert len(sounding), "nothing was recorded"
    lead = int(np.flatnonzero(truth)[0])  # the accent's first sample that is not 0
    offset = int(sounding[0]) - lead
    assert offset >= 0 and offset + len(truth) <= len(recorded), "started too late"
    segment = recorded[offset : offset + len(truth)]
    assert np.array_equal(segment, truth), float(np.abs(segment - truth).max())
    # each bar line: silence before it (beat 4 is silent), the accent on it
    for at in bar_lines[:-1]:
        assert not recorded[offset + at - 1000 : offset + at].any(), at
        assert recorded[offset + at + lead], at

"""Cues on the live display: the engine's status names the current and the next cue,
and ``ictus play`` on a terminal shows them (the next one loud from a bar ahead).

Truth: the cue positions as written in the map text below, counted by hand.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from ictus.engine import Engine, NextCue, State
from ictus.engine.backends.null import NullBackend
from ictus.formats import parse_click
from ictus.sounds import synth_voice
from ictus.tempomap import build_grid
from terminal import Terminal

RATE = 48000
ICTUS = str(Path(sys.executable).parent / "ictus")

# bars 1-2 intro (no cue), 3-6 verse (cue at its start and at bar 5 beat 3 of the map),
# 7-8 chorus (cue at its start)
CUED = """\
count-in: 1 bar
intro:  2 4/4 120
verse:  4 4/4 120 cue="Verse" cue@3.3="Break"
chorus: 2 4/4 120 cue="Chorus"
"""


def status_at(bar: int, beat: int):
    song = parse_click(CUED)
    grid = build_grid(song)
    backend = NullBackend(rate=RATE, period=128)
    with Engine(song, backend, voice=synth_voice("beep", RATE)) as engine:
        engine.start()
        i = int(np.flatnonzero((grid.bar == bar) & (grid.beat == beat))[0])
        while backend.clock <= int(grid.samples(RATE)[i]) + 10:
            backend.pull()
        return engine.status()


def test_status_names_the_cue_played_and_the_next_one():
    s = status_at(0, 2)  # count-in
    assert s.count_in and s.cue is None and s.next_cue == NextCue("Verse", 3, 1)
    s = status_at(2, 4)  # intro: no cue of its own
    assert (s.cue, s.next_cue) == (None, NextCue("Verse", 3, 1))
    s = status_at(3, 1)
    assert (s.cue, s.next_cue) == ("Verse", NextCue("Break", 5, 3))
    s = status_at(5, 2)
    assert (s.cue, s.next_cue) == ("Verse", NextCue("Break", 5, 3))
    s = status_at(5, 3)
    assert (s.cue, s.next_cue) == ("Break", NextCue("Chorus", 7, 1))
    s = status_at(8, 4)
    assert (s.cue, s.next_cue) == ("Chorus", None)
    assert s.state is State.PLAYING


def test_a_stopped_engine_shows_the_cues_from_its_cue_bar():
    song = parse_click(CUED)
    backend = NullBackend(rate=RATE, period=128)
    with Engine(song, backend, voice=synth_voice("beep", RATE)) as engine:
        engine.locate(6)
        backend.pull()
        s = engine.status()
    assert (s.state, s.bar, s.cue, s.next_cue) == (
        State.STOPPED,
        6,
        "Break",
        NextCue("Chorus", 7, 1),
    )


def test_play_on_a_terminal_shows_the_cue_and_the_next_one_a_bar_ahead(tmp_path):
    song = tmp_path / "song.click"
    # 240 BPM: a bar a second; the chorus cue comes at bar 3, two seconds in
    song.write_text('verse: 2 4/4 240 cue="Get ready"\nchorus: 6 4/4 240 cue="Chorus"\n')
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    with Terminal([ICTUS, "play", str(song), "-b", "null"], env) as term:
        term.wait_for(r"PLAYING", 20, last=20)
        # bar 1: the cue played, and the next one quietly with its bar
        term.wait_for(r"cue\s+Get ready\s+next cue\s+Chorus\s+bar 3", 5, last=20)
        assert not term.shows(r"▶ Chorus", last=20)
        # bar 2: a bar ahead of it, the next cue is loud
        term.wait_for(r"next cue\s+▶ Chorus\s+bar 3", 5, last=20)
        # bar 3: it is the cue now, nothing after it
        term.wait_for(r"cue\s+Chorus\s+next cue\s+—", 5, last=20)
        term.press(b"q")
        assert term.proc.wait(timeout=5) == 0
        assert "Traceback" not in term.text()


def screen_text(status) -> str:
    from rich.console import Console

    from ictus.cli.display import render_status

    console = Console(record=True, width=110, color_system=None)
    console.print(render_status(status))
    return console.export_text()


def test_the_display_says_when_a_follower_lost_its_source():
    from dataclasses import replace

    s = status_at(3, 1)
    assert "follow" not in screen_text(s)
    assert re.search(
        r"follow\s+transport\s+source\s+locked", screen_text(replace(s, follow="transport"))
    )
    lost = replace(s, follow="transport", follow_lost="the transport followed is gone")
    assert re.search(r"source\s+the transport followed is gone", screen_text(lost))


def test_shift_t_taps_a_tempo_and_the_display_shows_its_bpm(tmp_path):
    """Issue 9: T taps a tempo. Taps 0.4 s apart are 150 BPM; the display says the BPM
    tapped, and the click then plays it (a map at 100 BPM: the scale in percent is the
    tempo, so the tempo shown is the tapped one to the scale's 0.1 % step)."""
    song = tmp_path / "song.click"
    song.write_text("a: 60 4/4 100\n")
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    with Terminal([ICTUS, "play", str(song), "-b", "null"], env) as term:
        term.wait_for(r"PLAYING", 20, last=20)
        term.wait_for(r"100\.0 BPM", 5, last=20)
        term.press(b"T")
        term.wait_for(r"tap the tempo…", 5, last=20)
        for _ in range(4):
            time.sleep(0.4)
            term.press(b"T")
        term.wait_for(r"tapped \d+\.\d BPM \(tempo scale [\d.]+ %\)", 5, last=20)
        said = re.findall(r"tapped (\d+\.\d) BPM \(tempo scale ([\d.]+) %\)", term.text(20))
        tapped, percent = (float(x) for x in said[-1])
        assert abs(tapped - 150) < 10, tapped  # as pressed, give or take a loaded machine
        assert abs(percent - tapped) <= 0.051  # 100 BPM x scale: the tapped tempo
        term.wait_for(rf"tempo\s+{percent:.1f} BPM", 5, last=20)
        term.press(b"q")
        assert term.proc.wait(timeout=5) == 0
        assert "Traceback" not in term.text()

#!/usr/bin/env python3
"""Write the practice examples of docs/PRACTICE.md: takes with known timing, drum loops.

    python tools/make-practice-takes.py [OUT_DIR]    (default: practice-out)

OUT_DIR/song.click          the map the player plays to (verse, ramped chorus, 7/8 bridge)
OUT_DIR/take.wav            a plucked-string take of it: 0.5 s before the map starts,
                            notes moved by known amounts, room reverb and noise
OUT_DIR/take-truth.csv      every note: click time, onset time, deviation in ms
OUT_DIR/drums-*.wav         drum loops without a click (ramps, a meter change, 6/8)
OUT_DIR/drums-*.beats       their true beat times, one a line

All takes come from ictus.practice.takes with fixed seeds: the same files on every machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile

from ictus.formats import parse_click
from ictus.practice.takes import DRUM_LOOPS, SONG, make_drum_loop, make_take
from ictus.tempomap import build_grid


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "practice-out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "song.click").write_text(SONG, encoding="utf-8")
    grid = build_grid(parse_click(SONG))
    take = make_take(
        grid, seed=15, spread=0.012, push={"chorus": -0.015, "bridge": 0.01}, drift=0.004,
        rest=0.1, offset=0.5,
    )
    soundfile.write(out / "take.wav", take.audio, take.rate, subtype="PCM_24")
    rows = ["click_s,onset_s,deviation_ms"] + [
        f"{c:.6f},{o:.6f},{d * 1000:.3f}"
        for c, o, d in zip(take.clicks, take.onsets, take.deviations, strict=True)
    ]
    (out / "take-truth.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for name, (text, pad) in DRUM_LOOPS.items():
        audio, beats = make_drum_loop(build_grid(parse_click(text)), seed=1, lead=pad)
        soundfile.write(out / f"drums-{name}.wav", audio, 44100, subtype="PCM_16")
        (out / f"drums-{name}.beats").write_text(
            "".join(f"{t:.6f}\n" for t in beats), encoding="utf-8"
        )
        (out / f"drums-{name}.click").write_text(text, encoding="utf-8")
    print(f"wrote the practice examples to {out}/ ({np.count_nonzero(take.onsets)} notes)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate the example show's stems (examples/show/stems/), so no audio is committed.

Each stem is a few sine partials with a soft attack on every beat of its song's grid,
as long as the song from bar 1 plus one second: a bass, a pad, keys. One is 44.1 kHz
(the show streams it resampled), one FLAC, one AIFF, one stereo.

Usage: python tools/make-example-show.py [SHOW_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile

from ictus.formats import read_map
from ictus.tempomap import build_grid

STEMS = {
    # file: (map, rate, channels, base frequency)
    "opener-bass.wav": ("opener.click", 48000, 1, 55.0),
    "opener-pad.flac": ("opener.click", 48000, 2, 220.0),
    "seven-bass.aiff": ("seven.click", 48000, 1, 73.4),
    "seven-keys.wav": ("seven.click", 48000, 2, 293.7),
    "closer-bass-44k.wav": ("closer.click", 44100, 1, 49.0),
}


def make_stem(map_path: Path, rate: int, channels: int, freq: float) -> np.ndarray:
    grid = build_grid(read_map(map_path))
    bar1 = float(grid.time[np.flatnonzero(grid.bar == 1)[0]])
    length = round((grid.duration - bar1 + 1.0) * rate)
    t = np.arange(length) / rate
    tone = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))
    env = np.zeros(length)
    for beat in grid.time[(grid.bar >= 1) & (grid.sub == 0)] - bar1:
        at = round(beat * rate)
        decay = np.exp(-np.arange(length - at) / (0.25 * rate))
        env[at:] = np.maximum(env[at:], decay)
    mono = 0.2 * tone * env
    if channels == 1:
        return mono[:, np.newaxis]
    return np.stack([mono, np.roll(mono, rate // 100)], axis=1)


def main() -> None:
    show_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/show")
    out = show_dir / "stems"
    out.mkdir(parents=True, exist_ok=True)
    for name, (map_name, rate, channels, freq) in STEMS.items():
        data = make_stem(show_dir / map_name, rate, channels, freq)
        soundfile.write(out / name, data.astype(np.float32), rate, subtype="PCM_16")
        print(f"{out / name}: {len(data) / rate:.1f} s, {channels} ch, {rate} Hz")


if __name__ == "__main__":
    main()

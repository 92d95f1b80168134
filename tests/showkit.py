"""Small shows written at test time: maps, stems and a show.toml in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

MAPS = {
    # 4/4 at 120 with a count-in bar: bar 1 at 2 s, 8 bars = 16 s more
    "four.click": "title: Four\ncount-in: 1 bar\nintro: 2 4/4 120\nverse: 4 4/4 120\n"
    "chorus: 2 4/4 120\n",
    # 7/8 (2+2+3) at e=120: a pulse is 0.5 s, a bar 3.5 s
    "seven.click": "title: Seven\ncount-in: 1 bar\ngroove: 2 7/8 (2+2+3) e=120\n"
    "vamp: 1 7/8 (2+2+3) e=120\nout: 1 7/8 (2+2+3) e=120\n",
}

SHOW = """\
title = "Test show"
sample_rate = 48000
setlist = ["four", "seven"]
{extra}
[outputs]
foh    = {{ channels = [1, 2], main = true }}
drums  = {{ channels = [3, 4] }}
keys   = {{ channels = [5] }}

[clicks]
drummer = {{ sub = 4, voice = "hihat" }}
singer  = {{ levels = ["accent", "normal"] }}

[mixes.foh]
stems = 1.0
{foh}
[mixes.drums]
click = "drummer"
cues = 0.5
stems = 0.5

[mixes.keys]
cues = 1.0
stems = 0.25

[songs.four]
map = "four.click"
advance = 3
cues = [{{ at = "chorus", text = "last time" }}]
midi = [{{ at = "chorus", program = 12, channel = 2 }}, {{ at = "3:2", control = 20, value = 127 }}]
stems.bass = {{ path = "bass.wav", gain = 0.5 }}
stems.pad = {{ path = "pad.flac" }}

[songs.seven]
map = "seven.click"
vamps = ["vamp"]
stems.keys = "keys-44k.wav"
"""


def write_stem(path: Path, seconds: float, rate: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal((round(seconds * rate), channels)) * 0.05).astype(np.float32)
    subtype = "FLOAT" if path.suffix == ".wav" else "PCM_24"
    soundfile.write(path, data, rate, subtype=subtype)
    return data


def make_show(folder: Path, *, extra: str = "", foh: str = "", stems: bool = True) -> Path:
    """Write the test show into ``folder``; return the show file's path."""
    for name, text in MAPS.items():
        (folder / name).write_text(text)
    if stems:
        write_stem(folder / "bass.wav", 16.5, 48000, 1, 1)
        write_stem(folder / "pad.flac", 16.5, 48000, 2, 2)
        write_stem(folder / "keys-44k.wav", 14.5, 44100, 2, 3)
    path = folder / "show.toml"
    path.write_text(SHOW.format(extra=extra, foh=foh))
    return path


def line_of(path: Path, start: str, after: str = "") -> int:
    """1-based number of the first line starting with ``start`` after a line equal to ``after``."""
    lines = path.read_text().splitlines()
    begin = lines.index(after) if after else 0
    return next(i + 1 for i in range(begin, len(lines)) if lines[i].startswith(start))


@pytest.fixture(scope="session", autouse=True)
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """espeak-ng's words go to a cache of the test session, not the user's."""
    folder = tmp_path_factory.mktemp("speech-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(folder))
        yield folder

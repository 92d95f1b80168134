"""The block mixer: the one code path from a click grid to audio samples.

Both ``ictus render`` (block by block into a file) and the live engine (block by block
inside the audio callback) call :meth:`BlockMixer.mix` with an absolute sample position,
so the file and the live output are the same samples by construction. A plain WAV file,
whose silence is reserved on the disk, is written run by run instead
(:meth:`BlockMixer.mix_runs`): the same clicks, sounds, gains and order of additions,
so the same samples (tests/test_render.py holds the two ways to the same bytes).

Callback contract for :meth:`BlockMixer.mix` (the engine relies on it):

- ``out`` is a C-contiguous float32 array of shape ``(frames, channels)``; every sample
  of it is written (silence where no click sounds), nothing else is touched;
- no I/O, no locks, no allocation proportional to the song: the per-block work is two
  binary searches and one slice-add per click sounding in the block, then the routing
  to channels (:meth:`ictus.render.routing.Router.route`, the one routing path);
- ``frame0`` may jump anywhere (locate, loop, xrun recovery): the result depends only on
  ``frame0``, never on the previous call, so errors cannot accumulate.

>>> import numpy as np
>>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
>>> from ictus.sounds import Voice, synth_voice
>>> one = np.ones(1, dtype=np.float32)
>>> mixer = BlockMixer(build_grid(TempoMap((Section(1, Tempo(120)),))),
...                    Voice("impulse", 1000, one, one, one), rate=1000)
>>> out = np.empty((1000, 1), dtype=np.float32)
>>> mixer.mix(0, out)
True
>>> np.flatnonzero(out[:, 0]).tolist(), mixer.length
([0, 500], 2000)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.render.routing import FLOAT, Router, Routing
from ictus.sounds import Voice, synth_voice
from ictus.tempomap.grid import ClickGrid
from ictus.tempomap.model import SILENT, SOUNDING_LEVELS

#: Default gains per level (linear). The voices already differ per level.
DEFAULT_GAINS = {"accent": 1.0, "normal": 1.0, "sub": 1.0}

#: Sounds of polyrhythm layers that name none, in order of the layer's place in its
#: section (the main click's own sound skipped, so a layer never sounds like the beat).
LAYER_SOUNDS = ("clave", "cowbell", "hihat", "rim", "beep", "tock", "woodblock")


def layer_voices(grid: ClickGrid, voice: Voice) -> tuple[Voice, ...]:
    """The voice of every layer of ``grid`` (:attr:`ClickGrid.layer_voices`), at the
    main ``voice``'s rate: the layer's own sound, else one of :data:`LAYER_SOUNDS`.

    >>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
    >>> from ictus.tempomap.trainers import Layer
    >>> grid = build_grid(TempoMap((Section(1, Tempo(120), layers=(Layer(3), Layer(5))),)))
    >>> [v.name for v in layer_voices(grid, synth_voice("clave", 8000))]
    ['cowbell', 'hihat']
    """
    defaults = [name for name in LAYER_SOUNDS if name != voice.name]
    voices = []
    for place, sound in grid.layer_voices:
        name = sound if sound is not None else defaults[place % len(defaults)]
        try:
            voices.append(synth_voice(name, voice.rate))
        except ParameterError as err:
            raise ParameterError(f"poly layer: {err}") from None
    return tuple(voices)


def parse_channels(channels: int, click_on: Sequence[int] | None) -> tuple[int, ...]:
    """Validate 1-based output channels for the click; default: all channels.

    >>> parse_channels(8, [7, 8])
    (6, 7)
    """
    if not 1 <= channels <= 64:
        raise ParameterError(f"channels must be 1..64, got {channels}")
    if not click_on:
        return tuple(range(channels))
    bad = [c for c in click_on if not 1 <= c <= channels]
    if bad:
        raise ParameterError(f"--click-on {bad[0]} is not a channel of {channels} (1..{channels})")
    return tuple(sorted({c - 1 for c in click_on}))


class BlockMixer:
    """Mix the audible clicks of ``grid`` with ``voice`` at ``rate`` into blocks.

    Parameters
    ----------
    grid : ClickGrid
    voice : Voice
        Must be at ``rate`` (see :func:`ictus.sounds.synth_voice` and ``load_voice``).
    rate : int > 0
    channels : int, default 1
    click_on : sequence of 0-based channel indexes, default all
    gains : mapping level -> linear gain
    offset : int
        Samples added to every click position (a per-output latency compensation).

    The count-in clicks (:attr:`ClickGrid.count_in`) sound ``voice.count_in`` when the
    voice has one (``--count-in-sound``), else the voice itself. The polyrhythm layers'
    clicks (:attr:`ClickGrid.layers`) sound their own voices (:func:`layer_voices`).
    """

    def __init__(
        self,
        grid: ClickGrid,
        voice: Voice,
        *,
        rate: int,
        channels: int = 1,
        click_on: Sequence[int] | None = None,
        gains: Mapping[str, float] | None = None,
        offset: int = 0,
    ) -> None:
        if voice.rate != rate:
            raise ParameterError(f"voice is at {voice.rate} Hz, output at {rate} Hz")
        self.rate = rate
        self.channels = channels
        self.click_on = tuple(range(channels)) if click_on is None else tuple(click_on)
        g = {**DEFAULT_GAINS, **(gains or {})}
        level_gain = np.array([g[level.label] for level in SOUNDING_LEVELS], dtype=np.float32)
        audible = grid.level != SILENT
        starts = grid.samples(rate)[audible] + offset
        levels = grid.level[audible].astype(np.intp)
        amps = grid.volume[audible] * level_gain[levels]
        order = np.argsort(starts, kind="stable")
        # sounds 0..2: the voice's levels; 3..5: the count-in voice's (when there is one)
        sounds = [voice.accent, voice.normal, voice.sub]
        if voice.count_in is not None:
            sounds += [voice.count_in.accent, voice.count_in.normal, voice.count_in.sub]
            levels = levels + 3 * grid.count_in[audible]
        bars = grid.bar[audible]
        if len(grid.layers.time):
            starts, levels, amps, bars = self._with_layers(
                grid, voice, sounds, (starts, levels, amps, bars), level_gain, offset
            )
            order = np.argsort(starts, kind="stable")
        self.starts: NDArray[np.int64] = starts[order]
        self.levels: NDArray[np.intp] = levels[order]
        self.amps: NDArray[np.float32] = amps[order]
        #: the bar of each click (count-in bars are <= 0), for messages
        self.bars: NDArray[np.int32] = bars[order]
        self.voices = tuple(sounds)
        self.max_voice = max(len(v) for v in self.voices)
        # the file must hold every click's whole sound, even a long sample early on
        lengths = np.array([len(v) for v in self.voices], dtype=np.int64)[self.levels]
        tail = int((self.starts + lengths).max()) if len(self.starts) else 0
        self.length = max(round(grid.duration * rate) + max(offset, 0), tail)
        self._mono = np.zeros(0, dtype=np.float32)
        self._dirty: list[tuple[int, int]] = []
        self.routing = Routing.click(channels, self.click_on)
        self.router = Router(self.routing, FLOAT, max_frames=0)

    @staticmethod
    def _with_layers(
        grid: ClickGrid,
        voice: Voice,
        sounds: list[NDArray[np.float32]],
        beats: tuple[NDArray[Any], ...],
        level_gain: NDArray[np.float32],
        offset: int,
    ) -> tuple[NDArray[Any], ...]:
        """The beat clicks' columns with the layer clicks added; ``sounds`` grows by three
        sounds (accent, normal, sub) for each layer voice."""
        layers = grid.layers
        heard = layers.level != SILENT
        base = len(sounds)
        for lv in layer_voices(grid, voice):
            sounds += [lv.accent, lv.normal, lv.sub]
        levels = layers.level[heard].astype(np.intp)
        starts = np.rint(layers.time[heard] * voice.rate).astype(np.int64) + offset
        codes = base + 3 * layers.layer[heard].astype(np.intp) + levels
        amps = layers.volume[heard] * level_gain[levels]
        parts = zip(beats, (starts, codes, amps, layers.bar[heard]), strict=True)
        return tuple(np.concatenate([a, b]) for a, b in parts)

    def prepare(self, max_frames: int) -> None:
        """Allocate the scratch buffer once, outside the audio callback."""
        if len(self._mono) < max_frames:
            self._mono = np.zeros(max_frames, dtype=np.float32)
            self._dirty = []
        self.router.prepare(max_frames)

    def mix_mono(
        self, frame0: int, frames: int
    ) -> tuple[NDArray[np.float32], list[tuple[int, int]]]:
        """The click signal for ``frames`` samples from absolute sample ``frame0``.

        Returns a view of an internal buffer (valid until the next call) and the spans
        ``(start, stop)`` inside it where clicks sound; it is exactly zero elsewhere.
        Only the spans dirtied last time are cleared, so a block costs in proportion to
        the clicks in it, not to its length.
        """
        if len(self._mono) < frames:
            self.prepare(frames)
        buf = self._mono
        for a, b in self._dirty:
            buf[a:b] = 0.0
        spans: list[tuple[int, int]] = []
        starts = self.starts
        # the array's own method: numpy's function wrapper costs as much again
        lo = int(starts.searchsorted(frame0 - self.max_voice, "right"))
        hi = int(starts.searchsorted(frame0 + frames, "left"))
        voices = self.voices
        # as Python numbers: a numpy scalar per click costs more than the click's mix
        clicks = zip(
            starts[lo:hi].tolist(),
            self.levels[lo:hi].tolist(),
            self.amps[lo:hi].tolist(),
            strict=True,
        )
        for start, level, amp in clicks:
            sound = voices[level]
            at = start - frame0
            src = -at if at < 0 else 0
            dst = at if at > 0 else 0
            n = min(len(sound) - src, frames - dst)
            if n > 0:
                buf[dst : dst + n] += amp * sound[src : src + n]
                spans.append((dst, dst + n))
        self._dirty = spans
        return buf[:frames], spans

    def runs(self) -> NDArray[np.intp]:
        """Where each *run* of clicks begins: a run is a click with every later click
        that starts while an earlier one of the run still sounds (an isolated click is a
        run of one). Indexes into the clicks (:attr:`starts`), then ``len(starts)``.

        >>> import numpy as np
        >>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
        >>> from ictus.sounds import Voice
        >>> long = np.ones(700, dtype=np.float32)  # 0.7 s: clicks 0.5 s apart overlap
        >>> m = BlockMixer(build_grid(TempoMap((Section(1, Tempo(120)), Section(1, Tempo(60))))),
        ...                Voice("long", 1000, long, long, long), rate=1000)
        >>> m.starts.tolist(), m.runs().tolist()
        ([0, 500, 1000, 1500, 2000, 3000, 4000, 5000], [0, 5, 6, 7, 8])
        """
        if not len(self.starts):
            return np.zeros(1, dtype=np.intp)
        lengths = np.array([len(v) for v in self.voices], dtype=np.int64)[self.levels]
        ends = np.maximum.accumulate(self.starts + lengths)
        later = np.flatnonzero(self.starts[1:] >= ends[:-1]) + 1
        return np.concatenate(([0], later, [len(self.starts)])).astype(np.intp)

    def mix_runs(
        self, runs: NDArray[np.intp], out: NDArray[np.float32]
    ) -> list[tuple[int, int, int]]:
        """Mix the runs of clicks ``runs[:-1]`` (run ``k`` is clicks ``runs[k]`` up to
        ``runs[k + 1]``, see :meth:`runs`) one after another into ``out``, without the
        silence between them: the offline renderer's way (it writes each run where it
        belongs in the file, whose silence is there already).

        Returns ``(frame, offset, length)`` for each run: its samples, from absolute
        sample ``frame``, are ``out[offset : offset + length]``. ``out`` must hold all
        of them. Every sample is what :meth:`mix_mono` makes at that frame, bit for bit:
        the same products added to zero in the same order. Runs of one click (nearly
        all) are mixed a sound at a time, all clicks of it at once.

        >>> import numpy as np
        >>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
        >>> from ictus.sounds import Voice
        >>> two = np.array([0.5, 0.25], dtype=np.float32)
        >>> m = BlockMixer(build_grid(TempoMap((Section(1, Tempo(120)),))),
        ...                Voice("two", 1000, two, two, two), rate=1000)
        >>> out = np.empty(16, dtype=np.float32)
        >>> m.mix_runs(m.runs(), out)
        [(0, 0, 2), (500, 2, 2), (1000, 4, 2), (1500, 6, 2)]
        >>> out[:8].tolist()
        [0.5, 0.25, 0.5, 0.25, 0.5, 0.25, 0.5, 0.25]
        """
        placed: list[tuple[int, int, int]] = []
        if len(runs) < 2:
            return placed
        first = runs[:-1]
        single = (runs[1:] - first) == 1
        at = 0
        voices, starts, levels, amps = self.voices, self.starts, self.levels, self.amps
        alone = first[single]
        if len(alone):
            alone_levels = levels[alone]
            # (not np.unique: it imports numpy.ma, 10 ms, on its first call)
            for level in sorted(set(alone_levels.tolist())):
                sound = voices[level]
                clicks = alone[alone_levels == level]
                k, n = len(clicks), len(sound)
                rows = out[at : at + k * n].reshape(k, n)
                # as mix_mono: the product in float32, added to silence (0.0 + -0.0 is 0.0)
                np.multiply(amps[clicks][:, None], sound, out=rows)
                rows += np.float32(0.0)
                placed += zip(
                    starts[clicks].tolist(), range(at, at + k * n, n), [n] * k, strict=True
                )
                at += k * n
        for a, b in zip(first[~single].tolist(), runs[1:][~single].tolist(), strict=True):
            frame0 = int(starts[a])
            stop = max(int(starts[i]) + len(voices[levels[i]]) for i in range(a, b))
            buf = out[at : at + stop - frame0]
            buf[:] = 0.0
            for start, level, amp in zip(
                starts[a:b].tolist(), levels[a:b].tolist(), amps[a:b].tolist(), strict=True
            ):
                sound = voices[level]
                buf[start - frame0 : start - frame0 + len(sound)] += amp * sound
            placed.append((frame0, at, stop - frame0))
            at += stop - frame0
        return placed

    def mix(self, frame0: int, out: NDArray[np.float32]) -> bool:
        """Fill ``out`` (frames x channels) with the audio from absolute sample ``frame0``.

        Returns False when the block is pure silence.
        """
        return self.router.route((self.mix_mono(frame0, out.shape[0]),), out)

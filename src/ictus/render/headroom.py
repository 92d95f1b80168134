"""Overs: the click's peak, known before a sample is rendered, and what to do about it.

The peak of a click track follows from the grid and the voice: each click is its
voice level's sound times its amplitude (map volume x level gain), and only clicks
whose sounds overlap add up. :func:`click_peak` computes it exactly that way (mixing
only the overlapping runs, with the mixer's own code), so ``ictus render`` and
``ictus play`` can speak *before* they sound. :func:`check_headroom` applies the rule
of :mod:`ictus.render.routing` and the user's choice (:class:`Overs`): never silently.

>>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
>>> from ictus.sounds import Voice
>>> from ictus.render.mixer import BlockMixer
>>> loud = TempoMap((Section(2, Tempo(120), volume=2.0),))
>>> mixer = BlockMixer(build_grid(loud), Voice("v", 1000, [0.9], [0.7], [0.45]), rate=1000)
>>> peak = click_peak(mixer)
>>> round(peak.dbfs, 2), peak.bar, peak.cut()
(5.11, 1, 5.11)
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ictus.errors import IctusError, IctusWarning, ParameterError
from ictus.render.mixer import BlockMixer
from ictus.render.routing import Coding
from ictus.sounds import Voice
from ictus.tempomap.grid import ClickGrid

#: Frames mixed at a time when measuring a run of overlapping clicks.
_CHUNK = 1 << 16


class Overs(enum.Enum):
    """What to do when the click would go over full scale (``--overs``)."""

    WARN = "warn"  # say so (peak, first bar, the gain that fits); render by the rule
    FIT = "fit"  # turn the whole click down just enough, and say by how much
    REFUSE = "refuse"  # stop with an error that names the gain that fits

    @classmethod
    def parse(cls, text: str) -> Overs:
        """``warn``, ``fit`` or ``refuse`` (any case).

        >>> Overs.parse("Fit")
        <Overs.FIT: 'fit'>
        """
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(o.value for o in cls)
            raise ParameterError(f"--overs: choose one of {choices}, got {text!r}") from None


class OversWarning(IctusWarning):
    """The click goes over full scale (printed as ``ictus: warning: ...``)."""


class OversError(IctusError):
    """``--overs refuse`` and the click goes over full scale."""


class Peak(NamedTuple):
    """The loudest sample of a click track and where it first goes over.

    ``level`` is linear (1.0 = full scale); ``bar`` is the bar of the first click that
    goes over full scale, or of the loudest click when none does (0 for no click;
    count-in bars are 0, -1, ...).
    """

    level: float
    bar: int

    @property
    def over(self) -> bool:
        return self.level > 1.0

    @property
    def dbfs(self) -> float:
        return 20.0 * math.log10(self.level) if self.level > 0 else -math.inf

    def cut(self) -> float:
        """How far to turn the click down to fit, in dB, rounded up to 0.01 dB.

        >>> Peak(2.0, 1).cut(), Peak(0.5, 1).cut()
        (6.03, 0.0)
        """
        return math.ceil(max(0.0, self.dbfs) * 100.0) / 100.0

    def where(self) -> str:
        return "the count-in" if self.bar <= 0 else f"bar {self.bar}"


def click_peak(mixer: BlockMixer, gain: float = 1.0) -> Peak:
    """The exact peak of ``mixer``'s click (times the routing's ``gain``).

    A click alone peaks at its amplitude times its sound's peak, computed in float32 as
    the mixer does; runs of overlapping clicks are mixed with :meth:`BlockMixer.mix_mono`
    and measured.
    """
    starts = mixer.starts
    if not len(starts):
        return Peak(0.0, 0)
    sound_peaks = np.array([np.abs(v).max() for v in mixer.voices], dtype=np.float32)
    lengths = np.array([len(v) for v in mixer.voices], dtype=np.int64)[mixer.levels]
    alone = np.abs(mixer.amps) * sound_peaks[mixer.levels]  # float32, as the mixer rounds
    ends = starts + lengths
    reach = np.maximum.accumulate(ends)
    # a run starts where a click begins after everything before it has died away
    run_starts = np.flatnonzero(np.concatenate([[True], starts[1:] >= reach[:-1]]))
    run_stops = np.concatenate([run_starts[1:], [len(starts)]])
    levels = alone.astype(np.float64) * gain
    first_over = int(np.argmax(levels > 1.0)) if np.any(levels > 1.0) else -1
    loudest = int(np.argmax(levels))
    top = float(levels[loudest])
    for i, j in zip(run_starts, run_stops, strict=True):
        if j - i < 2:
            continue
        frame, stop = int(starts[i]), int(reach[j - 1])
        while frame < stop:
            n = min(_CHUNK, stop - frame)
            mono, _ = mixer.mix_mono(frame, n)
            magnitude = np.abs(mono[:n]).astype(np.float64) * gain
            k = int(np.argmax(magnitude))
            if magnitude[k] > top:
                top, loudest = float(magnitude[k]), _click_at(mixer, frame + k)
            if magnitude[k] > 1.0:
                at = _click_at(mixer, frame + int(np.argmax(magnitude > 1.0)))
                if first_over < 0 or at < first_over:
                    first_over = at
            frame += n
    index = first_over if first_over >= 0 else loudest
    return Peak(top, int(mixer.bars[index]))


def _click_at(mixer: BlockMixer, frame: int) -> int:
    """Index of the last click starting at or before ``frame``."""
    return max(0, int(np.searchsorted(mixer.starts, frame, side="right")) - 1)


def check_headroom(
    grid: ClickGrid,
    voice: Voice,
    *,
    rate: int,
    coding: Coding,
    overs: Overs = Overs.WARN,
    gains: Mapping[str, float] | None = None,
    target: str = "the file",
) -> Voice:
    """Apply the clipping rule to ``grid`` played by ``voice``; return the voice to use.

    Below full scale: ``voice`` itself, nothing said. Over it: :data:`Overs.WARN` warns
    (:class:`OversWarning`) with the peak in dBFS, the first bar that goes over, what
    ``target`` does with overs (``coding``) and the gain that fits; :data:`Overs.FIT`
    returns the voice turned down just enough (every sound times one factor, so the
    render and the live engine, given the same voice, still play the same samples) and
    says by how much; :data:`Overs.REFUSE` raises :class:`OversError`.
    """
    peak = click_peak(BlockMixer(grid, voice, rate=rate, gains=gains))
    if not peak.over:
        return voice
    said = f"the click peaks at {peak.dbfs:+.2f} dBFS, over full scale from {peak.where()}"
    if overs is Overs.REFUSE:
        raise OversError(
            f"{said}; turn it down by {peak.cut():.2f} dB (--gain, or the map's vol=), "
            "or use --overs fit"
        )
    if overs is Overs.FIT:
        factor = 1.0 / peak.level
        for _ in range(8):  # float32 rounding may leave it a hair over: step down
            fitted = voice.scaled(factor)
            if not click_peak(BlockMixer(grid, fitted, rate=rate, gains=gains)).over:
                break
            factor *= 1.0 - 1e-6
        warnings.warn(
            OversWarning(
                f"{said}; turned the whole click down {-20 * math.log10(factor):.2f} dB "
                "to fit (--overs fit)"
            ),
            stacklevel=2,
        )
        return fitted
    if coding.clips:
        fate = f"{target} ({coding.name}) clips it"
    else:
        fate = f"{target} ({coding.name}) keeps the overs, the audio interface will clip them"
    warnings.warn(
        OversWarning(
            f"{said}: {fate}. Turn it down by {peak.cut():.2f} dB (--gain, or the map's "
            "vol=), or use --overs fit"
        ),
        stacklevel=2,
    )
    return voice

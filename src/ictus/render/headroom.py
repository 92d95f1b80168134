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
>>> round(peak.dbfs, 2), peak.bar, round(peak.fit_db, 2)
(5.11, 1, -5.11)
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ictus.errors import IctusError, IctusWarning
from ictus.render.mixer import DEFAULT_GAINS, BlockMixer
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

    @property
    def fit_db(self) -> float:
        """The gain in dB (<= 0) that brings the peak down to full scale."""
        return min(0.0, -self.dbfs)

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
) -> dict[str, float]:
    """Apply the clipping rule to ``grid`` played by ``voice``; return the gains to use.

    Below full scale: ``gains`` unchanged, nothing said. Over it: :data:`Overs.WARN`
    warns (:class:`OversWarning`) with the peak in dBFS, the first bar that goes over,
    what ``target`` does with overs (``coding``) and the gain that fits;
    :data:`Overs.FIT` lowers every level's gain by the same amount so the peak is at
    most full scale, and says so; :data:`Overs.REFUSE` raises :class:`OversError`.
    """
    base = {**DEFAULT_GAINS, **(gains or {})}
    peak = click_peak(BlockMixer(grid, voice, rate=rate, gains=base))
    if not peak.over:
        return base
    said = f"the click peaks at {peak.dbfs:+.1f} dBFS, over full scale from {peak.where()}"
    if overs is Overs.REFUSE:
        raise OversError(
            f"{said}; turn it down by {-peak.fit_db:.1f} dB (--gain, or the map's vol=), "
            "or use --overs fit"
        )
    if overs is Overs.FIT:
        factor = 1.0 / peak.level
        for _ in range(8):  # float32 rounding may leave it a hair over: step down
            fitted = {level: g * factor for level, g in base.items()}
            if not click_peak(BlockMixer(grid, voice, rate=rate, gains=fitted)).over:
                break
            factor = math.nextafter(factor, 0.0) * (1.0 - 1e-6)
        warnings.warn(
            OversWarning(f"{said}; turned the whole click down {-20 * math.log10(factor):.1f} dB "
                         "to fit (--overs fit)"),
            stacklevel=2,
        )
        return fitted
    if coding.clips:
        fate = f"{target} ({coding.name}) clips it"
    else:
        fate = f"{target} ({coding.name}) keeps the overs, the audio interface will clip them"
    warnings.warn(
        OversWarning(
            f"{said}: {fate}. Turn it down by {-peak.fit_db:.1f} dB (--gain, or the map's "
            "vol=), or use --overs fit"
        ),
        stacklevel=2,
    )
    return base

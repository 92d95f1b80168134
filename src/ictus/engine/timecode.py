"""LTC on the live engine's outputs: :class:`LtcTrack`, an audio source placed in the map.

Timecode frame ``start`` begins on bar 1's downbeat (map frame 0); frames before it (a
count-in, a pre-roll) count back from it. Since the wave is a function of the map frame
(:class:`ictus.sync.LtcSource`), a locate, a jump or a loop's wrap plays the new place's
timecode at once: the source holds the line still until the next whole frame, so a
reader sees whole, correct frames from the first frame start after the move.

The map frame counts samples at the tempo being played, so at a tempo scale other than
100 % the timecode runs on in real time from bar 1 at that scale (a change of scale is a
move: new timecode from the next frame).

>>> from ictus.tempomap import Section, Tempo, TempoMap
>>> from ictus.sounds import Voice
>>> from ictus.engine import Engine, Route
>>> from ictus.engine.backends.null import NullBackend
>>> from ictus.timebase import FPS_25
>>> song = TempoMap((Section(4, Tempo(120)),))
>>> ltc = LtcTrack(FPS_25, "01:00:00:00")
>>> backend = NullBackend(rate=48000, period=480)
>>> tick = Voice("tick", 48000, [1.0], [0.5], [0.25])
>>> with Engine(song, backend, voice=tick, channels=2, click_on=[0],
...             sources=[Route(ltc, (1,))]) as engine:
...     engine.start()
...     out = backend.pull()
>>> [round(float(x), 3) for x in out[:3, 1]], str(ltc.timecode_at(48000 * 2))  # a rising edge
([0.333, 0.5, 0.5], '01:00:02:00')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ictus.engine.plan import MAX_PERIOD
from ictus.engine.sources import AudioSource
from ictus.errors import ParameterError
from ictus.sync.ltc import SMPTE_RISE_TIME, LtcSignal, LtcSource
from ictus.timebase import FrameRate, Timecode

if TYPE_CHECKING:
    from ictus.engine.plan import Plan


class LtcTrack(AudioSource):
    """LTC at ``fps`` with ``start`` on bar 1, on ``channels`` outputs (the same signal).

    The sample rate comes from the first plan (:meth:`prepare`, on the control side),
    so one track serves any backend.

    Parameters
    ----------
    fps : FrameRate
        One of :data:`ictus.sync.LTC_RATES`.
    start : Timecode, str or int
        The label on bar 1's downbeat (a timecode at ``fps``, its text, or a frame count).
    channels : int
        How many outputs carry it (route them with one :class:`~ictus.engine.Route`).
    amplitude : float
        Peak level (0.5: -6 dBFS).
    """

    def __init__(
        self,
        fps: FrameRate,
        start: Timecode | str | int = 0,
        channels: int = 1,
        amplitude: float = 0.5,
    ) -> None:
        if channels < 1:
            raise ParameterError(f"LTC needs at least one output, got {channels}")
        self.fps = fps
        self.start = start
        self.channels = channels
        self.amplitude = amplitude
        LtcSource(LtcSignal(fps, 48000, amplitude), start)  # check the rate and start now
        self.source: LtcSource | None = None

    def prepare(self, plan: Plan) -> None:
        if self.source is None or self.source.signal.sample_rate != plan.rate:
            signal = LtcSignal(self.fps, plan.rate, self.amplitude, SMPTE_RISE_TIME)
            self.source = LtcSource(signal, self.start, 0, capacity=MAX_PERIOD)

    def render(self, plan: Plan, frame: int, out: NDArray[np.float32]) -> bool:
        source = self.source
        if source is None:
            return False
        n = out.shape[0]
        if n > MAX_PERIOD:  # a block beyond the engine's own limit: grow once
            source.reserve(n)
        first = out[:, 0]
        source.write(frame - plan.origin, first)
        for k in range(1, self.channels):
            out[:, k] = first
        return True

    def timecode_at(self, map_frame: int) -> Timecode:
        """The label sounding at ``map_frame`` (samples from bar 1's downbeat)."""
        if self.source is None:
            raise ParameterError("the LTC track has no sample rate yet (no plan prepared)")
        return self.source.timecode_at(map_frame)

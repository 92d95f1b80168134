"""The engine's clock on this computer's clock: what a page synchronises to.

The engine counts samples (its backend's clock); a browser has only its own clock. The
server watches the engine's clock from a thread: each look gives ``m - clock / rate``
(``m``: :func:`time.monotonic` when it looked). A block of audio is computed when its
first sample is due and the status then already holds the block's *end*, so every look
is at least one period late: ``m - (clock - period) / rate`` is never below the true
offset, and the smallest of a few seconds of looks is it, to within how often we look.

>>> watch = ClockWatch(lambda: (0, 1000, 10), every=1.0)
>>> watch.observe(10, 1000, 10, at=5.020)   # block [0, 10) computed at 5.000 s
>>> watch.observe(20, 1000, 10, at=5.010)   # block [10, 20) seen as it was due
>>> round(watch.engine_seconds(5.5), 6), round(watch.monotonic_of(0.5), 6)
(0.5, 5.5)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

#: Seconds of looks the best (smallest) value is taken from: long enough to catch a
#: look just after a block starts (hundreds of looks), short enough to follow a clock
#: that drifts or slips (a server that fell behind after an xrun) within a second.
WINDOW = 1.0


class ClockWatch:
    """Map between the engine's clock (in seconds) and :func:`time.monotonic`.

    Parameters
    ----------
    read : callable returning (clock, rate, period)
    every : float
        Seconds between looks.
    visual_latency : float
        Seconds added to every engine time: how much later than its block the audio is
        heard (the output's latency), so a flash lands with the sound, not the callback.
    on_thread : callable, optional
        Called first thing on the watching thread (to set its priority).
    """

    def __init__(
        self,
        read: Callable[[], tuple[int, int, int]],
        every: float = 0.002,
        visual_latency: float = 0.0,
        on_thread: Callable[[], object] | None = None,
    ) -> None:
        self._read = read
        self._on_thread = on_thread
        self._every = every
        self.visual_latency = visual_latency
        self._looks: deque[tuple[float, float]] = deque()
        self._best: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_clock = -1
        self.rate = 0

    def observe(self, clock: int, rate: int, period: int, at: float | None = None) -> None:
        """Take one look: the status showed ``clock`` at monotonic time ``at``."""
        at = time.monotonic() if at is None else at
        if clock < self._last_clock or rate != self.rate:
            self._looks.clear()  # a new clock (reconnect) or rate: start over
        self._last_clock = clock
        self.rate = rate
        # the block ending at `clock` began at clock - period: that is when it was due
        value = at - (clock - period) / rate
        looks = self._looks
        while looks and looks[-1][1] >= value:
            looks.pop()  # a later look that is no better can never be the best again
        looks.append((at, value))
        while looks[0][0] < at - WINDOW:
            looks.popleft()
        self._best = looks[0][1]

    def engine_seconds(self, at: float | None = None) -> float:
        """The engine's clock in seconds at monotonic time ``at`` (default now)."""
        at = time.monotonic() if at is None else at
        return at - (self._best or 0.0) - self.visual_latency

    def monotonic_of(self, seconds: float) -> float:
        """The monotonic time at which the engine's clock shows ``seconds``."""
        return seconds + (self._best or 0.0) + self.visual_latency

    @property
    def ready(self) -> bool:
        return self._best is not None

    def start(self) -> ClockWatch:
        self._thread = threading.Thread(target=self._run, name="ictus-web-clock", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)

    def _run(self) -> None:
        if self._on_thread is not None:
            self._on_thread()
        while not self._stop.wait(self._every):
            clock, rate, period = self._read()
            if rate > 0:
                self.observe(clock, rate, period)

"""The null backend: no device, blocks are pulled as fast as they are asked for.

Tests drive it block by block with :meth:`NullBackend.pull` (the clock is a plain frame
counter; ``skip`` simulates frames lost in an xrun). ``ictus play --backend null`` runs
it on a thread: at full speed without a terminal, or paced to the wall clock with one
(so the display can be watched). The pacing is this pretend device's clock, not the
engine's: the engine still only counts samples.

With ``inputs`` it also hands the engine an input block before each output block:
what :meth:`NullBackend.pull` is given, else silence.

>>> import numpy as np
>>> seen = []
>>> b = NullBackend(rate=8000, period=4)
>>> b.open(2)
>>> b.start(lambda out, now: (out.fill(0.5), seen.append(now)))
>>> b.pull().shape, b.pull(skip=4)[0].tolist(), seen
((4, 2), [0.5, 0.5], [0, 8])
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ictus.engine.backends.base import Backend, OutputList, Process


class NullBackend(Backend):
    """Offline backend; see the module docstring.

    Parameters
    ----------
    rate : int
        Used when the engine does not ask for a rate.
    period : int
        Frames per block.
    driver : {"none", "fast", "paced"}
        ``none``: blocks only come from :meth:`pull`. ``fast``/``paced``: a thread
        pulls blocks, as fast as possible or at the rate of the wall clock.
    inputs : int
        Input channels handed to ``capture`` (see :mod:`.base`).
    """

    name = "null"
    realtime = False

    def __init__(
        self, rate: int = 48000, period: int = 256, driver: str = "none", inputs: int = 0
    ) -> None:
        super().__init__()
        self.inputs = inputs
        self._silence = np.zeros((0, inputs), dtype=np.float32)
        if driver not in ("none", "fast", "paced"):
            raise ValueError(f"driver must be none, fast or paced, got {driver!r}")
        self._default_rate = rate
        self.period = period
        self.driver = driver
        self.clock = 0
        self._process: Process | None = None
        self._buffer = np.zeros((0, 0), dtype=np.float32)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def list_outputs(cls, **options: Any) -> OutputList:
        del options
        return OutputList(cls.name, True, "always (plays into nothing; try the display)")

    def open(self, channels: int, rate: int | None = None) -> None:
        self.channels = channels
        self.rate = rate or self._default_rate
        self._buffer = np.zeros((self.period, channels), dtype=np.float32)
        self._silence = np.zeros((self.period, self.inputs), dtype=np.float32)

    def start(self, process: Process) -> None:
        self._process = process
        if self.driver != "none" and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._drive, name="ictus-null", daemon=True)
            self._thread.start()

    def pull(
        self,
        frames: int | None = None,
        skip: int = 0,
        heard: NDArray[np.float32] | None = None,
    ) -> NDArray[np.float32]:
        """Process one block of ``frames`` (default: the period, or the length of
        ``heard``) after skipping ``skip``; ``heard`` (frames x inputs) is the input
        block handed to ``capture`` (default: silence).

        Returns the block (a view of an internal buffer, valid until the next pull).
        """
        assert self._process is not None, "start() the backend first"
        n = (self.period if heard is None else len(heard)) if frames is None else frames
        if self._buffer.shape[0] < n:
            self._buffer = np.zeros((n, self.channels), dtype=np.float32)
        self.clock += skip
        out = self._buffer[:n]
        if self.capture is not None and self.inputs:
            if heard is None:
                if self._silence.shape[0] < n:
                    self._silence = np.zeros((n, self.inputs), dtype=np.float32)
                heard = self._silence[:n]
            self.capture(heard, self.clock)
        self._process(out, self.clock)
        self.clock += n
        return out

    def _drive(self) -> None:
        start = time.monotonic()
        done = 0
        while not self._stop.is_set():
            self.pull()
            done += self.period
            if self.driver == "paced":
                ahead = start + done / self.rate - time.monotonic()
                if ahead > 0:
                    self._stop.wait(ahead)
            else:
                time.sleep(0)  # let the control thread in

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        self._thread = None

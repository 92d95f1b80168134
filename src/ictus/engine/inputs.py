"""Audio inputs: what the engine hears while it plays (a take recorded against the click).

A backend opened with inputs hands every block of input to the engine's callback
*before* it asks for the output block of the same clock (:class:`~ictus.engine.backends.
base.Backend`, ``capture``). The engine passes it on to each :class:`AudioInput` with
the backend clock of its first sample: the very clock the transport places the click
by, so a recorded sample and a played click are compared on one counter, to the sample.

:class:`TakeRecorder` is the input that records: in the callback it only copies the
block into a ring allocated beforehand (no lock, no I/O, nothing allocated but two
numpy views); a writer thread of its own drains the ring into a sound file (32-bit
float, so the file holds the very samples that came in). Frames the backend lost (its
clock jumped, an xrun) are written as silence, so sample ``i`` of the file is always
backend clock ``first_clock + i``. A clock that goes back, or forward by more than the
ring (a new server after a reconnect), cannot be followed: it is counted in
``jumps`` and the take is refused at the end.

>>> import numpy as np
>>> rec = TakeRecorder(channels=1, seconds=1.0)
>>> rec.open(rate=8, inputs=1)
>>> rec.arm()
>>> rec.receive(np.ones((4, 1), np.float32), 100)
>>> rec.receive(np.full((4, 1), 2, np.float32), 108)   # frames 104..107 were lost
>>> rec.first_clock, rec.drain()[:, 0].tolist(), rec.lost
(100, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0], 4)
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ictus.errors import IctusError, ParameterError


class AudioInput(ABC):
    """Receives the backend's input blocks inside the audio callback.

    Callback rules apply to :meth:`receive`: no I/O, no locks, no waiting, no
    allocation worth the name. Anything slow belongs in :meth:`open` (control side,
    after the backend opened and before blocks flow) or on the input's own thread.
    """

    #: how many of the backend's input channels it wants (the first ones)
    channels: int = 1

    def open(self, rate: int, inputs: int) -> None:  # noqa: B027 - optional hook
        """Control side: the backend runs at ``rate`` with ``inputs`` input channels."""

    @abstractmethod
    def receive(self, block: NDArray[np.float32], clock: int) -> None:
        """Callback: ``block`` (frames x input channels, any strides, valid only during
        the call) arrived with its first sample at backend ``clock``."""


class TakeRecorder(AudioInput):
    """Records the first ``channels`` inputs into a ring the callback fills and a thread
    empties into a file (see the module docstring).

    Parameters
    ----------
    channels : int
    seconds : float
        Ring size: how far the writer may fall behind before frames are lost (then
        :attr:`overflow` says how many and the take is not to be trusted).

    Attributes
    ----------
    first_clock : int or None
        Backend clock of the take's first sample (None before the first block).
    frames : int
        Frames recorded so far (lost ones, written as silence, included).
    lost : int
        Frames the backend's clock skipped (written as silence).
    overflow : int
        Frames dropped because the writer fell a whole ring behind.
    jumps : int
        Times the clock went back or leapt by more than the ring (not followed).
    """

    def __init__(self, channels: int = 1, seconds: float = 10.0) -> None:
        if not 1 <= channels <= 64:
            raise ParameterError(f"a take has 1..64 channels, got {channels}")
        if seconds <= 0:
            raise ParameterError(f"the ring must hold > 0 s, got {seconds}")
        self.channels = channels
        self.seconds = seconds
        self.rate = 0
        self._ring = np.zeros((0, channels), np.float32)
        self._armed = False
        self.first_clock: int | None = None
        self._next_clock = 0
        self.frames = 0  # written by the callback only
        self._read = 0  # written by the reader only
        self.lost = 0
        self.overflow = 0
        self.jumps = 0
        self._writer: threading.Thread | None = None
        self._stop = threading.Event()
        self.failure: str | None = None

    # -- control side ------------------------------------------------------------------

    def open(self, rate: int, inputs: int) -> None:
        if inputs < self.channels:
            raise IctusError(
                f"the take wants {self.channels} input(s), the backend opened {inputs}"
            )
        self.rate = rate
        self._ring = np.zeros((max(int(self.seconds * rate), 8192), self.channels), np.float32)

    def arm(self) -> None:
        """Start recording with the next block."""
        self._armed = True

    def disarm(self) -> None:
        """Stop recording after the block being received (the file keeps all so far)."""
        self._armed = False

    # -- the callback --------------------------------------------------------------------

    def receive(self, block: NDArray[np.float32], clock: int) -> None:
        if not self._armed:
            return
        n = block.shape[0]
        if self.first_clock is None:
            self.first_clock = clock
            self._next_clock = clock
        gap = clock - self._next_clock
        if gap < 0 or gap > self._ring.shape[0]:
            self.jumps += 1  # another clock (a reconnect): the file cannot follow it
        elif gap > 0:  # the backend lost frames: silence keeps the file on the clock
            self.lost += gap
            self._put(None, gap)
        self._put(block, n)
        self._next_clock = clock + n

    def _put(self, block: NDArray[np.float32] | None, n: int) -> None:
        ring = self._ring
        size = ring.shape[0]
        if self.frames + n - self._read > size:
            self.overflow += n
            self.frames += n  # keep the clock: the reader sees the hole by `overflow`
            return
        at = self.frames % size
        first = min(n, size - at)
        if block is None:
            ring[at : at + first] = 0.0
            ring[: n - first] = 0.0
        else:
            ring[at : at + first] = block[:first, : self.channels]
            ring[: n - first] = block[first:, : self.channels]
        self.frames += n  # last: the reader takes only what is complete

    # -- the reader ----------------------------------------------------------------------

    def drain(self) -> NDArray[np.float32]:
        """What was recorded since the last drain (reader side: one thread only)."""
        end = self.frames
        start = self._read
        size = self._ring.shape[0]
        if end - start > size:  # overflowed: the oldest frames were never kept
            start = end - size
        out = np.empty((end - start, self.channels), np.float32)
        a = start % size
        first = min(end - start, size - a)
        out[:first] = self._ring[a : a + first]
        out[first:] = self._ring[: end - start - first]
        self._read = end
        return out

    def record_to(self, path: str | os.PathLike[str], every: float = 0.05) -> None:
        """Start a thread writing the take to ``path`` (32-bit float; WAV, FLAC...
        by its suffix) every ``every`` seconds; :meth:`finish` ends it."""
        import soundfile

        if self.rate == 0:
            raise IctusError("open the recorder (through the engine) before recording")
        target = Path(path)
        subtype = "FLOAT" if target.suffix.lower() in (".wav", ".w64", ".caf", ".aiff") else None
        try:
            sink = soundfile.SoundFile(
                target, "w", samplerate=self.rate, channels=self.channels, subtype=subtype
            )
        except (RuntimeError, OSError, TypeError, ValueError) as err:
            raise IctusError(f"cannot write the take to '{target}': {err}") from None

        def write() -> None:
            try:
                while not self._stop.wait(every):
                    sink.write(self.drain())
                sink.write(self.drain())
            except Exception as err:  # a full disk: say so at the end, keep the click
                self.failure = f"writing '{target}' failed: {err}"
            finally:
                sink.close()

        self._stop.clear()
        self._writer = threading.Thread(target=write, name="ictus-take", daemon=True)
        self._writer.start()

    def finish(self) -> None:
        """Stop recording, write what is left and close the file (control side)."""
        self.disarm()
        self._stop.set()
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        if self.failure is not None:
            raise IctusError(self.failure)
        if self.jumps:
            raise IctusError(
                "the take lost its place: the audio clock jumped (the backend "
                "reconnected?); the file is written but not on the click's clock"
            )
        if self.overflow:
            raise IctusError(
                f"the take lost {self.overflow} frames: the file writer fell "
                f"{self.seconds:g} s behind the audio (a slow disk?)"
            )

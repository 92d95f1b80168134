"""The small interface every audio backend implements, and the callback it drives.

A backend owns one audio stream of ``channels`` outputs. The engine opens it (which
fixes the sample rate and period), then starts it with a *process* function; from then
on the backend calls ``process(out, now)`` from its audio thread for every block:

- ``out``: float32 array of shape ``(frames, channels)`` to fill completely (any
  strides: JACK's is channel-major, PortAudio's interleaved). A backend may hand over
  the very same array object block after block; it then holds what the last call left
  there (the transport relies on that to skip rewriting silence), so nothing else may
  write to it;
- ``now``: the backend's frame clock at the first sample of the block, an ``int`` that
  grows by ``frames`` per block and jumps forward when frames were lost (an xrun), so
  the transport can stay aligned to it.

The process function must not block, do I/O or allocate much (see
:mod:`ictus.engine.transport`).

A backend opened with ``inputs`` > 0 (constructor option of the JACK, PortAudio and
null backends) also records: before each ``process(out, now)`` it calls
``capture(block, now)``, if the engine set :attr:`Backend.capture`, with the input
block of the same cycle (float32, frames x inputs, any strides, valid only during the
call) and the same ``now``. The same callback rules apply.
:meth:`Backend.reported_latency` says how late the outputs sound and the inputs
arrive, as the device or server reports it (docs/PRACTICE.md: how a take is aligned).

Backends report trouble through attributes the engine polls from its control thread,
never by calling back into it: ``xruns`` (a count) and ``failure`` (why the stream
stopped, or None).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ictus.errors import IctusError

#: ``capture(block, now)``: the input block whose first sample arrived at clock ``now``
Capture = Callable[[NDArray[np.float32], int], None]

#: ``process(out, now)``; may return True to say the block is all silence (a hint
#: that lets a backend skip copying zeros it already wrote)
Process = Callable[[NDArray[np.float32], int], "bool | None"]


class BackendError(IctusError):
    """An audio backend cannot open its device or server, or lost it."""


class NoOutput(BackendError):
    """There is nothing to play to: no server answers, no device exists."""


@dataclass(frozen=True)
class OutputPort:
    """One place a backend can play to.

    ``name`` is what the user gives back (``--device`` for PortAudio, ``--connect`` for
    JACK); ``index`` the PortAudio device index (None elsewhere).
    """

    name: str
    channels: int = 1
    rate: int | None = None
    default: bool = False
    detail: str = ""
    index: int | None = None


@dataclass(frozen=True)
class Latency:
    """Frames between the backend's clock and the outside world, as reported.

    ``playback``: a sample played at clock ``c`` is heard at ``c + playback``;
    ``capture``: a sample received at clock ``c`` was picked up at ``c - capture``.
    So a note played exactly on a click at clock ``c`` comes back at
    ``c + round_trip``.
    """

    playback: int = 0
    capture: int = 0

    @property
    def round_trip(self) -> int:
        return self.playback + self.capture


@dataclass(frozen=True)
class OutputList:
    """What one backend can play to now: ``available`` and why (``state``)."""

    backend: str
    available: bool
    state: str
    outputs: tuple[OutputPort, ...] = ()


class Backend(ABC):
    """One audio output stream. Subclasses set :attr:`name` and the four hooks."""

    #: the name users pick it by (``--backend``, ``ICTUS_BACKEND``)
    name: ClassVar[str] = "?"
    #: True when blocks come from a real clock (the engine then waits for them)
    realtime: ClassVar[bool] = True

    def __init__(self) -> None:
        self.rate = 0
        self.period = 0
        self.channels = 0
        self.xruns = 0
        self.failure: str | None = None
        #: input channels the backend was asked to open (0: none)
        self.inputs = 0
        #: set by the engine before :meth:`start` when it records (see the module docstring)
        self.capture: Capture | None = None

    @abstractmethod
    def open(self, channels: int, rate: int | None = None) -> None:
        """Connect to the device or server; afterwards ``rate`` and ``period`` are known.

        ``rate`` None: the device's or server's own rate. No blocks are processed yet.
        """

    @abstractmethod
    def start(self, process: Process) -> None:
        """Begin calling ``process`` for every block."""

    @abstractmethod
    def close(self) -> None:
        """Stop and release everything; safe to call twice and after a failure."""

    def reopen(self) -> bool:
        """After a failure, try once to get the stream back (same ports and names).

        Returns True when the backend is open again (``rate`` may have changed); the
        engine then calls :meth:`start` again. Backends that cannot come back say False.
        """
        return False

    def check(self) -> None:
        """Called by the engine's supervisor thread every few milliseconds: a chance to
        notice a device that stopped without saying so (set ``failure`` then)."""
        return None  # most devices say so themselves

    def host_time(self, clock: int) -> int | None:
        """The host time (microseconds of ``CLOCK_MONOTONIC_RAW``, Ableton Link's and
        JACK's clock) at which backend ``clock`` plays, or None when the backend cannot
        tell (the engine then estimates it from its last block). Any thread."""
        del clock
        return None

    def reported_latency(self) -> Latency:
        """How late the outputs sound and the inputs arrive, in frames, as the device
        or server reports it (control thread; 0 and 0 when it cannot tell)."""
        return Latency()

    def settle(self, timeout: float = 1.0) -> None:
        """Wait (control thread) until the outputs are connected and blocks flow."""
        del timeout

    @classmethod
    def list_outputs(cls, **options: Any) -> OutputList:
        """Where this backend can play, asked of its library without opening a stream.
        ``options`` are the backend's own (e.g. JACK's ``server``)."""
        del options
        return OutputList(cls.name, True, "available")

    def describe(self) -> str:
        """One line for the user: what plays where."""
        return f"{self.name} ({self.channels} ch, {self.rate} Hz, {self.period} frames)"

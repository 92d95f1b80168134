"""Audio sources: sound that plays along with the click (stems, LTC, spoken cues).

A source is placed in the map, not in time: the callback asks it for the samples of a
plan's grid frames, so after a locate, a jump or a loop's wrap it plays from the new
place at once. ``frame - plan.origin`` is the *map frame* (samples from the map's bar 1
downbeat at the plan's tempo scale; see :class:`~ictus.engine.plan.Plan`).

Each source renders its own channels into a scratch buffer; a :class:`Route` says which
output channels they go to and at what gain, and :class:`SourceMixer` adds them to the
block after the click was written. Anything slow (reading a file ahead, speaking a word)
happens on the control side (:meth:`AudioSource.prepare`) or on the source's own thread,
never in :meth:`AudioSource.render`.

>>> import numpy as np
>>> stem = Stem(np.arange(1, 6, dtype=np.float32).reshape(5, 1), at=2)
>>> out = np.zeros((6, 1), dtype=np.float32)
>>> class P:  # a plan whose map starts at grid frame 0
...     origin = 0
>>> stem.render(P(), 0, out), out[:, 0].tolist()
(True, [0.0, 0.0, 1.0, 2.0, 3.0, 4.0])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError

if TYPE_CHECKING:
    from ictus.engine.plan import Plan


class AudioSource(ABC):
    """Audio placed in the map; see the module docstring.

    Attributes
    ----------
    channels : int
        How many channels :meth:`render` writes.
    """

    channels: int = 1

    def prepare(self, plan: Plan) -> None:  # noqa: B027 - optional hook
        """Control side, before ``plan`` can play (read ahead, convert the rate...)."""

    @abstractmethod
    def render(self, plan: Plan, frame: int, out: NDArray[np.float32]) -> bool:
        """Callback: write this source's samples for ``plan``'s grid frames ``[frame,
        frame + len(out))`` into ``out`` (frames x :attr:`channels`, holding anything).
        Return False, leaving ``out`` as it is, when the source is silent there."""


class Stem(AudioSource):
    """Samples held in memory, starting at map frame ``at`` (0: bar 1's downbeat).

    The simplest source, for tests and short clips; real stems stream from disk. A stem
    plays at its own rate: at a tempo scale other than 100 % its map frames and the
    click's part ways (the show issue decides: refuse the change, or stretch).
    """

    def __init__(self, samples: NDArray[np.float32], at: int = 0) -> None:
        data = np.asarray(samples, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
        self.samples = np.ascontiguousarray(data)
        self.channels = data.shape[1]
        self.at = at

    def render(self, plan: Plan, frame: int, out: NDArray[np.float32]) -> bool:
        n = out.shape[0]
        first = frame - plan.origin - self.at  # stem sample at out[0]
        lo, hi = max(first, 0), min(first + n, len(self.samples))
        if lo >= hi:
            return False
        out.fill(0.0)
        out[lo - first : hi - first] = self.samples[lo:hi]
        return True


@dataclass(frozen=True)
class Route:
    """Source channel ``k`` goes to output channel ``to[k]`` (0-based) at ``gain``."""

    source: AudioSource
    to: tuple[int, ...]
    gain: float = 1.0

    def __post_init__(self) -> None:
        if len(self.to) != self.source.channels:
            raise ParameterError(
                f"a source of {self.source.channels} channel(s) needs as many outputs, "
                f"got {len(self.to)}"
            )


class SourceMixer:
    """Adds every routed source to the blocks the transport plays (callback side)."""

    def __init__(self, routes: Sequence[Route], channels: int, period: int = 8192) -> None:
        for route in routes:
            if any(not 0 <= c < channels for c in route.to):
                raise ParameterError(f"source outputs {route.to} outside 0..{channels - 1}")
        self.routes = tuple(routes)
        widest = max((r.source.channels for r in self.routes), default=1)
        self._scratch = np.zeros((period, widest), dtype=np.float32)

    def prepare(self, plan: Plan) -> None:
        """Control side: let every source get ready for ``plan``."""
        for route in self.routes:
            route.source.prepare(plan)

    def mix(self, plan: Plan, frame: int, out: NDArray[np.float32]) -> bool:
        """Add each source's part of ``plan``'s frames ``[frame, frame + len(out))`` to
        ``out``; returns whether any sounded."""
        n = out.shape[0]
        if self._scratch.shape[0] < n:
            self._scratch = np.zeros((n, self._scratch.shape[1]), dtype=np.float32)
        sounded = False
        for route in self.routes:
            buf = self._scratch[:n, : route.source.channels]
            if route.source.render(plan, frame, buf):
                sounded = True
                # TODO(routing): mix through render's one routing function and its
                # clipping rule once it lands (issue 8, item 2)
                for k, ch in enumerate(route.to):
                    if route.gain == 1.0:
                        out[:, ch] += buf[:, k]
                    else:
                        out[:, ch] += buf[:, k] * np.float32(route.gain)
        return sounded

"""Audio sources: sound that plays along with the click (stems, LTC, spoken cues).

A source is placed in the map, not in time: the callback asks it for the samples of a
plan's grid frames, so after a locate, a jump or a loop's wrap it plays from the new
place at once. ``frame - plan.origin`` is the *map frame* (samples from the map's bar 1
downbeat at the plan's tempo scale; see :class:`~ictus.engine.plan.Plan`).

Each source renders its own channels into a scratch buffer; a :class:`Route` says which
output channels they go to and at what gain, and :class:`SourceMixer` mixes them with
the click through the render package's one routing function
(:meth:`ictus.render.Router.route`), so they obey the same clipping rule as the file.
Anything slow (reading a file ahead, speaking a word) happens on the control side
(:meth:`AudioSource.prepare`) or on the source's own thread, never in
:meth:`AudioSource.render`.

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

from ictus.engine.plan import MAX_PERIOD
from ictus.errors import ParameterError
from ictus.render import Router, Routing, SourceBlock

if TYPE_CHECKING:
    from ictus.engine.plan import Plan


class AudioSource(ABC):
    """Audio placed in the map; see the module docstring.

    Attributes
    ----------
    channels : int
        How many channels :meth:`render` writes.
    sounds_until : int or None
        Map frame after the source's last sample: the transport plays on at least
        until there (a stem running on after the map's last bar). None: the source
        follows the transport and does not hold it (timecode, a loop).
    """

    channels: int = 1
    sounds_until: int | None = None

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
        self.sounds_until = at + len(data)

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
    """Mixes the click and every routed source into the blocks the transport plays.

    One :class:`~ictus.render.Router` per set of click outputs does it all: its routing
    has a row per click group (unity gain on the group's channels, as the plan's own
    router) and a row per source channel (its route's gain on its output channel), so
    the click's samples are the same with sources or without, and sources obey the one
    clipping rule. The routers are made on the control side (:meth:`prepare`).
    """

    def __init__(self, routes: Sequence[Route], channels: int) -> None:
        for route in routes:
            if any(not 0 <= c < channels for c in route.to):
                raise ParameterError(f"source outputs {route.to} outside 0..{channels - 1}")
        self.routes = tuple(routes)
        self.channels = channels
        ends = [r.source.sounds_until for r in routes if r.source.sounds_until is not None]
        #: map frame after the last source's last sample (None: no source holds the
        #: transport)
        self.sounds_until: int | None = max(ends, default=None)
        # one scratch per route, channel-major so each source channel is a contiguous
        # mono block for the router; the source writes through a transposed view
        self._scratch = [np.zeros((r.source.channels, MAX_PERIOD), np.float32) for r in routes]
        self._zeros = np.zeros(MAX_PERIOD, np.float32)
        self._routers: dict[int, tuple[Router, list[SourceBlock]]] = {}

    def prepare(self, plan: Plan) -> None:
        """Control side: the router for ``plan``'s outputs, and the sources' own
        preparation for ``plan``."""
        if not self.routes:
            return
        key = id(plan.outputs)
        if key not in self._routers:
            groups = [chs for chs, _ in plan.outputs.groups()]
            gains = np.zeros(
                (len(groups) + sum(r.source.channels for r in self.routes), self.channels),
                dtype=np.float32,
            )
            for k, chs in enumerate(groups):
                gains[k, list(chs)] = 1.0
            row = len(groups)
            for route in self.routes:
                for ch in route.to:
                    gains[row, ch] = route.gain
                    row += 1
            silent: SourceBlock = (np.zeros(0, np.float32), [])
            self._routers[key] = (Router(Routing(gains), max_frames=MAX_PERIOD), [silent] * row)
        for route in self.routes:
            route.source.prepare(plan)

    def mix(self, plan: Plan, frame: int, out: NDArray[np.float32]) -> bool:
        """Fill ``out`` with ``plan``'s click and the sources for grid frames ``[frame,
        frame + len(out))``; returns False when it is all silence."""
        n = out.shape[0]
        router, blocks = self._routers[id(plan.outputs)]
        mixers = plan.mixers
        for i, mixer in enumerate(mixers):  # none when the click goes nowhere
            blocks[i] = mixer.mix_mono(frame, n)
        row = len(mixers)
        for r, route in enumerate(self.routes):
            scratch = self._scratch[r]
            if scratch.shape[1] < n:  # a block beyond MAX_PERIOD: grow once
                scratch = self._scratch[r] = np.zeros((scratch.shape[0], n), np.float32)
                self._zeros = np.zeros(n, np.float32)
            sounded = route.source.render(plan, frame, scratch[:, :n].T)
            for k in range(route.source.channels):
                # a silent source is zeros (the router may read it where the click
                # sounds), not what the scratch held from the last block
                blocks[row] = (scratch[k, :n], [(0, n)]) if sounded else (self._zeros[:n], [])
                row += 1
        return router.route(blocks, out)

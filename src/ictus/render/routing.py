"""Routing: the one path from sources to output channels, with the one clipping rule.

Every output of ictus (a rendered file, the live engine's callback, the audio of a
video) turns its sources into channels here: :meth:`Router.route` mixes mono *source
blocks* (the click of each latency group today; stems, LTC and spoken cues later) into
``frames x channels`` through a :class:`Routing` matrix of gains, then codes the result
for the output (:class:`Coding`). Because every output calls the same function, the live
output is the file's samples, above full scale too.

The clipping rule (decided here once)
    A sample is *over* when its magnitude exceeds 1.0 (full scale).

    - Float outputs (:data:`FLOAT`: 32-bit float files, the live engine's float32
      buffers for JACK and PortAudio) carry overs unchanged: they are not the converter,
      and a fader after them (a DAW, a monitor mixer) can still bring the click back
      without distortion. The interface's converter clips what still arrives over.
    - Integer and lossy files (:data:`PCM_16`, :data:`PCM_24`, :data:`LOSSY`) cannot
      hold overs: they are clipped to full scale. Integers are ``round(x * full)``
      clipped to ``[-full, full]`` (``full`` = 32767 or 8388607, libsndfile's scaling).

    Nobody hears an over silently: :mod:`ictus.render.headroom` predicts the peak from
    the grid and the voice before a note is rendered and warns, fits or refuses.

Callback contract of :meth:`Router.route` (the engine calls it in its audio callback):
numpy slicing only, no I/O, no locks; the only allocations are a few small Python
objects (the merged span list); scratch buffers are made once in :meth:`Router.prepare`.

>>> import numpy as np
>>> router = Router(Routing([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]]), PCM_16)
>>> click = np.array([0.5, 1.5, 0.0], dtype=np.float32)     # source 0, an over at 1
>>> stem = np.array([0.25, 0.25, 0.25], dtype=np.float32)   # source 1
>>> out = np.empty((3, 3), dtype=np.int16)
>>> router.route([(click, [(0, 2)]), (stem, [(0, 3)])], out)
True
>>> out.tolist()
[[16384, 8192, 12288], [32767, 8192, 28671], [0, 8192, 4096]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from ictus.errors import ParameterError

#: One source's block: its mono samples and the spans ``(start, stop)`` where it is not
#: zero (it must be exactly 0.0 elsewhere). A stem would give ``[(0, frames)]``.
SourceBlock = tuple[NDArray[np.float32], Sequence[tuple[int, int]]]

#: Most channels an output may have.
MAX_CHANNELS = 64


class Coding(NamedTuple):
    """How mixed float samples become the output's samples.

    Attributes
    ----------
    name : str
        For messages ("16-bit", "32-bit float").
    dtype : numpy scalar type of the output buffer
    full : float
        The integer that stands for full scale (1.0 for float outputs).
    factor : float
        Multiplier after rounding: 24-bit samples sit in the top bits of an int32 (as
        libsndfile expects), ``x << 8`` done exactly in float32.
    clips : bool
        Whether overs are clipped to full scale (see the module docstring).
    """

    name: str
    dtype: Any
    full: float
    factor: float
    clips: bool


#: 32-bit float files and live float32 outputs: unclipped.
FLOAT = Coding("32-bit float", np.float32, 1.0, 1.0, clips=False)
#: Lossy files (OGG, MP3): the codec gets float samples clipped to full scale.
LOSSY = Coding("lossy", np.float32, 1.0, 1.0, clips=True)
PCM_16 = Coding("16-bit", np.int16, 32767.0, 1.0, clips=True)
PCM_24 = Coding("24-bit", np.int32, 8388607.0, 256.0, clips=True)

_CODINGS = {"PCM_16": PCM_16, "PCM_24": PCM_24, "FLOAT": FLOAT}


def coding_for(subtype: str) -> Coding:
    """The coding of a libsndfile subtype (anything else: a lossy codec).

    >>> coding_for("PCM_24").name, coding_for("VORBIS").clips, coding_for("FLOAT").clips
    ('24-bit', True, False)
    """
    return _CODINGS.get(subtype, LOSSY)


class Routing:
    """A routing matrix: ``gains[source, channel]`` is how much of a source a channel gets.

    Channels whose column is all zeros stay silent. Channels with identical columns are
    computed once and copied, so a click on 8 outputs costs one mix.

    Parameters
    ----------
    gains : array-like, shape (sources, channels)
        Linear, finite gains.

    >>> r = Routing.groups(4, [(2,), (3,)])
    >>> r.gains.tolist(), r.sources, r.channels
    ([[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]], 2, 4)
    >>> Routing.click(3, [0, 2]).gains.tolist()
    [[1.0, 0.0, 1.0]]
    """

    def __init__(self, gains: npt.ArrayLike) -> None:
        matrix = np.array(gains, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] < 1:
            raise ParameterError(f"routing gains must be sources x channels, got {matrix.shape}")
        if not 1 <= matrix.shape[1] <= MAX_CHANNELS:
            raise ParameterError(f"channels must be 1..{MAX_CHANNELS}, got {matrix.shape[1]}")
        if not np.all(np.isfinite(matrix)):
            raise ParameterError("routing gains must be finite")
        matrix.flags.writeable = False
        self.gains: NDArray[np.float32] = matrix
        self.sources, self.channels = matrix.shape
        by_column: dict[tuple[float, ...], list[int]] = {}
        for ch in range(self.channels):
            column = tuple(float(g) for g in matrix[:, ch])
            if any(column):
                by_column.setdefault(column, []).append(ch)
        #: (channels sharing a column, ((source, gain), ...) for the nonzero gains)
        self.columns: tuple[tuple[tuple[int, ...], tuple[tuple[int, float], ...]], ...] = tuple(
            (tuple(chs), tuple((s, g) for s, g in enumerate(column) if g))
            for column, chs in by_column.items()
        )

    @classmethod
    def click(cls, channels: int, click_on: Sequence[int] | None = None) -> Routing:
        """One source on the 0-based channels ``click_on`` (default all) at unity gain."""
        return cls.groups(channels, [range(channels) if click_on is None else click_on])

    @classmethod
    def groups(cls, channels: int, groups: Sequence[Sequence[int]]) -> Routing:
        """Source ``k`` on the 0-based channels ``groups[k]`` at unity gain."""
        if not 1 <= channels <= MAX_CHANNELS:
            raise ParameterError(f"channels must be 1..{MAX_CHANNELS}, got {channels}")
        matrix = np.zeros((len(groups), channels), dtype=np.float32)
        for k, chs in enumerate(groups):
            for ch in chs:
                if not 0 <= ch < channels:
                    raise ParameterError(f"channel {ch} outside 0..{channels - 1}")
                matrix[k, ch] = 1.0
        return cls(matrix)

    def peak_gain(self) -> float:
        """The largest sum of gain magnitudes any channel applies (a peak's worst case)."""
        return float(np.abs(self.gains).sum(axis=0).max())


class Router:
    """Mix source blocks through a :class:`Routing` into coded output blocks.

    Parameters
    ----------
    routing : Routing
    coding : Coding, default FLOAT
    max_frames : int
        Largest block expected; the scratch buffers are made for it once (a larger
        block grows them, outside the real-time promise).

    How a block is mixed (the arithmetic is fixed: every output gets the same bits)
        Each distinct column sums its sources in routing row order, in float32: the
        first source times its gain, then each next product (rounded to float32) added
        on. A gain of 1 multiplies exactly, so it changes nothing. The work is done for
        all columns at once, one step per term: the sources a column needs are stacked
        once per block, then step ``t`` gathers every column's ``t``-th source from
        the stack, scales the gathered rows by their gains and adds them to the columns'
        sums. Columns are kept longest first, so the columns still summing at step ``t``
        are the first rows of the sums. That is three numpy calls per step (a column has
        at most as many terms as sources) instead of two per term per column, and the
        same sums in the same order: not a product of matrices, whose order and fused
        multiply-adds would change the last bit. A routing with few terms (a click file's
        one column) is cheaper column by column, and is mixed so; the two ways give the
        same bits.
    """

    def __init__(self, routing: Routing, coding: Coding = FLOAT, *, max_frames: int = 8192):
        self.routing = routing
        self.coding = coding
        self._acc = np.zeros(0, dtype=np.float32)
        self._tmp = np.zeros(0, dtype=np.float32)
        self._buffer: NDArray[Any] = np.zeros((0, routing.channels), dtype=coding.dtype)
        self._dirty: list[tuple[int, int]] = []
        # the coding's constants as 0-d float32 arrays: ufuncs take these fastest
        full = coding.full if coding.dtype is not np.float32 else 1.0
        self._full = np.array(full, dtype=np.float32)
        self._low = np.array(-full, dtype=np.float32)
        columns = sorted(routing.columns, key=lambda column: -len(column[1]))  # stable
        #: sources some column needs (the others are never read)
        self._used = tuple(sorted({s for _, terms in columns for s, _ in terms}))
        self._copied = self._used  # those copied into the stack (see :meth:`stack_on`)
        self._given: NDArray[np.float32] | None = None
        self._columns = len(columns)
        steps: list[tuple[int, NDArray[np.intp], NDArray[np.float32] | None]] = []
        for t in range(max((len(terms) for _, terms in columns), default=0)):
            k = sum(1 for _, terms in columns if len(terms) > t)
            index = np.array([terms[t][0] for _, terms in columns[:k]], dtype=np.intp)
            gains = np.array([terms[t][1] for _, terms in columns[:k]], dtype=np.float32)
            scale = None if bool(np.all(gains == 1.0)) else gains.reshape(k, 1)
            steps.append((k, index, scale))
        # numpy calls per span, roughly: column by column two per term and two per
        # column; all at once three per step, one per stacked source and six more
        terms = sum(len(t) for _, t in columns)
        at_once = 3 * len(steps) + len(self._used) + 6 < 2 * terms + 2 * len(columns)
        #: per step: columns still summing, which stacked source each takes, gains
        #: (None: mixed column by column)
        self._steps = tuple(steps) if at_once else None
        # the column each channel copies; silent channels copy row ``len(columns)``,
        # kept at zero
        feed = np.full(routing.channels, len(columns), dtype=np.intp)
        for c, (channels, _) in enumerate(columns):
            feed[list(channels)] = c
        self._feed = feed
        self._frames = 0
        self._stack = self._sums = self._terms = self._spread = np.zeros(0, np.float32)
        self.prepare(max_frames)

    def prepare(self, max_frames: int) -> None:
        """Make the scratch buffers hold ``max_frames`` (outside the audio callback)."""
        if len(self._acc) < max_frames:
            self._acc = np.zeros(max_frames, dtype=np.float32)
            self._tmp = np.zeros(max_frames, dtype=np.float32)
        if self._steps is not None and self._frames < max_frames:
            # flat, so that a block of any length is a contiguous (rows, frames) view
            self._stack = np.zeros(self.routing.sources * max_frames, np.float32)
            self._sums = np.zeros((self._columns + 1) * max_frames, np.float32)
            self._terms = np.zeros(self._columns * max_frames, np.float32)
            self._spread = np.zeros(self.routing.channels * max_frames, np.float32)
            self._frames = max_frames

    def stack_on(self, stack: NDArray[np.float32], placed: Sequence[int]) -> None:
        """Stack the sources on ``stack`` (sources x frames) instead of the router's own
        buffer, and do not copy the sources ``placed``: their blocks are written there
        by their sources (views of row ``k`` for source ``k``) before each call. Blocks
        longer than ``stack`` go through the router's own buffer as before.
        """
        if stack.dtype != np.float32 or stack.shape[0] != self.routing.sources:
            raise ParameterError(f"a stack must be float32 x {self.routing.sources} sources")
        self._given = stack
        self._copied = tuple(s for s in self._used if s not in set(placed))

    def route(self, blocks: Sequence[SourceBlock], out: NDArray[Any]) -> bool:
        """Fill all of ``out`` (frames x channels, the coding's dtype) from ``blocks``.

        ``blocks[k]`` is source ``k`` of the routing, at least ``len(out)`` samples.
        Returns False when the block is pure silence (``out`` is then all zeros).
        """
        out.fill(0)
        return self._write(blocks, out)

    def block(self, blocks: Sequence[SourceBlock], frames: int) -> NDArray[Any]:
        """Like :meth:`route`, into the router's own buffer; returns a view of it.

        Only what the last call wrote is cleared first, so a block between clicks costs
        nothing in proportion to its length (the file writer's way). The view is valid
        until the next call.
        """
        buf = self._buffer
        if len(buf) < frames:
            buf = self._buffer = np.zeros((frames, self.routing.channels), self.coding.dtype)
            self._dirty = []
        for a, b in self._dirty:
            buf[a:b] = 0
        view = buf[:frames]
        self._write(blocks, view)
        return view

    @property
    def written(self) -> list[tuple[int, int]]:
        """The spans (frames) the last call wrote; the rest of its block is zeros."""
        return self._dirty

    def _write(self, blocks: Sequence[SourceBlock], out: NDArray[Any]) -> bool:
        spans = _merged(blocks, len(out))
        self._dirty = spans
        if not spans:
            return False
        if len(self._acc) < len(out):
            self.prepare(len(out))
        if self._steps is not None:
            self._write_at_once(blocks, out, spans)
            return True
        full = self._full
        for a, b in spans:
            acc = self._acc[a:b]
            tmp = self._tmp[a:b]
            for channels, terms in self.routing.columns:
                if len(terms) == 1 and terms[0][1] == 1.0:
                    # one source at unity (a click): scaled in the same step, exactly
                    np.multiply(blocks[terms[0][0]][0][a:b], full, out=acc)
                else:
                    _sum_terms(blocks, terms, a, b, acc, tmp)
                    if self.coding.dtype is not np.float32:
                        acc *= full
                first = out[a:b, channels[0]]
                self._code(acc, first)
                for ch in channels[1:]:
                    out[a:b, ch] = first
        return True

    def _write_at_once(
        self, blocks: Sequence[SourceBlock], out: NDArray[Any], spans: list[tuple[int, int]]
    ) -> None:
        """:meth:`_write` for every column at once (see the class docstring)."""
        assert self._steps is not None
        steps, columns, given = self._steps, self._columns, self._given
        multiply, add = np.multiply, np.add
        if given is not None and given.shape[1] < len(out):
            given = None
        copied = self._used if given is None else self._copied
        for a, b in spans:
            m = b - a
            if given is None:
                stack = self._stack[: self.routing.sources * m].reshape(-1, m)
            else:
                stack = given[:, a:b]
            for s in copied:
                stack[s] = blocks[s][0][a:b]
            sums = self._sums[: (columns + 1) * m].reshape(columns + 1, m)
            terms = self._terms[: columns * m].reshape(columns, m)
            for t, (k, index, scale) in enumerate(steps):
                into = sums[:k] if t == 0 else terms[:k]
                stack.take(index, 0, into, "clip")
                if scale is not None:
                    multiply(into, scale, out=into)
                if t:
                    add(sums[:k], into, out=sums[:k])
            sums[columns] = 0.0  # what silent channels copy
            if self.coding.dtype is not np.float32:
                sums[:columns] *= self._full
            if self.coding.dtype is not np.float32 or self.coding.clips:
                self._code(sums[:columns], sums[:columns])
            spread = self._spread[: len(self._feed) * m].reshape(len(self._feed), m)
            sums.take(self._feed, 0, spread, "clip")
            out[a:b] = spread.T  # integer codings: whole numbers already, cast exactly

    def _code(self, acc: NDArray[np.float32], dest: NDArray[Any]) -> None:
        """Code one summed column (already times ``full``) into ``dest``, a column of the
        output. ``acc`` is scratch.

        Integers are ``round(x * full)`` clipped to ``[-full, full]``; clipping first
        gives the same integers (the bounds are integers) and lets the rounding write
        the output's type directly. The array's own clip: as cheap as np.minimum and
        np.maximum on a click, and a quarter of their time on long spans (numpy 2.4).
        """
        coding = self.coding
        if coding.dtype is not np.float32:
            acc.clip(self._low, self._full, out=acc)
            if coding.factor == 1.0:
                np.rint(acc, out=dest, casting="unsafe")
            else:
                np.rint(acc, out=acc)
                # exact: a power of two on integers below 2**24
                np.multiply(acc, coding.factor, out=dest, casting="unsafe")
        elif coding.clips:
            acc.clip(self._low, self._full, out=dest)
        else:
            dest[...] = acc


def _sum_terms(
    blocks: Sequence[SourceBlock],
    terms: Sequence[tuple[int, float]],
    a: int,
    b: int,
    acc: NDArray[np.float32],
    tmp: NDArray[np.float32],
) -> None:
    """Sum the sources feeding one column over frames ``a:b`` into ``acc``.

    A gain of exactly 1 adds the samples untouched (no multiply, so no rounding).
    """
    first = True
    for source, gain in terms:
        x = blocks[source][0][a:b]
        if first:
            if gain == 1.0:
                acc[:] = x
            else:
                np.multiply(x, gain, out=acc)
            first = False
        elif gain == 1.0:
            acc += x
        else:
            np.multiply(x, gain, out=tmp)
            acc += tmp


def _merged(blocks: Sequence[SourceBlock], frames: int) -> list[tuple[int, int]]:
    """The union of every block's spans (inside a block of ``frames``), as sorted
    disjoint spans.

    >>> z = np.zeros(9, dtype=np.float32)
    >>> _merged([(z, [(0, 3), (2, 5)]), (z, [(7, 9), (5, 6)])], 9)
    [(0, 6), (7, 9)]
    """
    for _, block_spans in blocks:
        if len(block_spans) == 1 and block_spans[0] == (0, frames):
            return [(0, frames)]  # a source sounding all through the block (a stem)
    if len(blocks) == 1:
        spans = blocks[0][1]  # one source: already in time order
    else:
        spans = sorted(span for _, block_spans in blocks for span in block_spans)
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged

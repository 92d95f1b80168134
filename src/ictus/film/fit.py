"""Tempo fitting: the tempos that put the hits on the beat (docs/REFERENCE.md section 5).

The rules:

- A hit's **error** is the hit's time minus the nearest time the grid allows it (its
  beat, 8th, 16th or triplet grid), in frames: positive means the music's beat comes
  *before* the hit (music early), negative after it (music late).
- A hit is **hit** if ``|error| <= 0.5`` frame, **near** if the music is at most 1 frame
  early or 2 frames late (``-2 <= error <= 1``), else a **miss**. The boundaries are
  decided in exact :class:`~fractions.Fraction` arithmetic, so a hit exactly half a
  frame off counts as hit.
- Candidates rank by weighted hits, then weighted nears, then weighted mean square
  error, then the worst error, then how round the tempo is.

Search (three modes):

``free``
    Every tempo that puts some hit exactly on a grid point is a candidate (beat length
    = t / k); each is refined by weighted least squares over the hits it catches. All
    are scored with numpy first; the best few are then checked exactly.
``quarter-bpm``
    Tempos in steps of 0.25 BPM.
``click``
    Eighth-frame clicks ``F-e`` (6-0 .. 36-0 at 24 fps for 40..240 BPM: 241 of them).

The cue start is the first downbeat unless ``pickup``: then the fitter also chooses
where the first downbeat falls (on a whole frame, within the first bar), and the beats
before it are a pickup.

Examples
--------
>>> from ictus.timebase import FPS_24
>>> from ictus.film.hits import Hit
>>> hits = [Hit(Fraction(f, 24)) for f in (96, 192, 288, 336)]
>>> best = fit_tempo(hits, rate=FPS_24, lo=100, hi=140)[0]
>>> best.bpm, best.click, best.counts
(Fraction(120, 1), '12-0', (4, 0, 0))
>>> [int(r.beat) for r in best.results], [r.error_frames for r in best.results]
([8, 16, 24, 28], [Fraction(0, 1), Fraction(0, 1), Fraction(0, 1), Fraction(0, 1)])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.film.hits import Hit
from ictus.tempomap import seconds_at_tempo
from ictus.timebase import FrameRate, bpm_to_frames, format_click, format_timecode

MODES = ("free", "quarter-bpm", "click")

HIT, NEAR, MISS = "hit", "near", "miss"
_HALF = Fraction(1, 2)
#: The near window: music at most 1 frame early (error <= 1) or 2 late (error >= -2).
NEAR_EARLY = Fraction(1)
NEAR_LATE = Fraction(-2)
# Float scoring only preselects; the exact check decides. A margin keeps a hit that
# floats put a hair past 0.5 frame in the running.
_EPS = 1e-7
_CHUNK = 8192


def classify(error_frames: Fraction) -> str:
    """``"hit"``, ``"near"`` or ``"miss"`` for an exact error in frames.

    >>> [classify(Fraction(x)) for x in ("0.5", "-0.5", "1", "1.01", "-2", "-2.01")]
    ['hit', 'hit', 'near', 'miss', 'near', 'miss']
    """
    if abs(error_frames) <= _HALF:
        return HIT
    if NEAR_LATE <= error_frames <= NEAR_EARLY:
        return NEAR
    return MISS


def roundness(bpm: Fraction) -> int:
    """How round a tempo is, 0 (whole) to 7 (no short decimal): the last tie-break.

    >>> [roundness(Fraction(x)) for x in ("120", "117.5", "117.25", "108.6", "5760/53")]
    [0, 1, 2, 3, 7]
    """
    for score, scale in enumerate((1, 2, 4, 10, 20, 100, 1000)):
        if (bpm * scale).denominator == 1:
            return score
    return 7


@dataclass(frozen=True)
class HitResult:
    """Where one hit lands for a candidate tempo.

    Attributes
    ----------
    hit : the hit
    beat : exact grid position in beats from the first downbeat (2.5 = an 8th after beat 3)
    bar, beat_in_bar : 1-based bar and beat (fractional off the beat; bar 0 is a pickup)
    error_frames : exact hit - grid time in frames (+ music early, - music late)
    status : ``"hit"``, ``"near"`` or ``"miss"``
    """

    hit: Hit
    beat: Fraction
    bar: int
    beat_in_bar: Fraction
    error_frames: Fraction
    status: str

    @property
    def bar_beat(self) -> str:
        """``"3|1"``, or ``"3|2.5"`` off the beat."""
        beat = self.beat_in_bar
        text = str(beat.numerator) if beat.denominator == 1 else f"{float(beat):.3g}"
        return f"{self.bar}|{text}"


@dataclass(frozen=True)
class Candidate:
    """One fitted tempo and how every hit fares with it.

    Attributes
    ----------
    bpm : exact beats per minute of the click's beat
    offset : exact seconds from the cue start to the first downbeat (0 without a pickup)
    rate : the picture's frame rate
    beats_per_bar : for bar numbers
    results : one :class:`HitResult` per hit, in time order
    """

    bpm: Fraction
    offset: Fraction
    rate: FrameRate
    beats_per_bar: int
    results: tuple[HitResult, ...]

    @property
    def frames_per_beat(self) -> Fraction:
        return bpm_to_frames(self.bpm, self.rate)

    @property
    def on_click_grid(self) -> bool:
        """Whether the tempo is an exact eighth-frame click."""
        return (self.frames_per_beat * 8).denominator == 1

    @property
    def click(self) -> str:
        """The nearest frame click ``F-e``, marked ``+``/``-`` when not exact."""
        try:
            return format_click(self.frames_per_beat)
        except ParameterError:
            return ""  # under one frame per beat: no click label exists

    @property
    def counts(self) -> tuple[int, int, int]:
        """(hits, nears, misses)."""
        statuses = [r.status for r in self.results]
        return statuses.count(HIT), statuses.count(NEAR), statuses.count(MISS)

    def _weighted(self, status: str) -> Fraction:
        return sum((r.hit.weight for r in self.results if r.status == status), Fraction(0))

    @property
    def weighted_mean_square(self) -> Fraction:
        total = sum((r.hit.weight for r in self.results), Fraction(0))
        if total == 0:
            return Fraction(0)
        return sum((r.hit.weight * r.error_frames**2 for r in self.results), Fraction(0)) / total

    @property
    def rms_frames(self) -> float:
        return math.sqrt(self.weighted_mean_square)

    @property
    def worst_frames(self) -> Fraction:
        counted = [abs(r.error_frames) for r in self.results if r.hit.weight > 0]
        return max(counted, default=Fraction(0))

    @property
    def pickup_beats(self) -> int:
        """Whole beats between the cue start and the first downbeat."""
        return math.floor(self.offset * self.bpm / 60)

    def rank_key(self) -> tuple[Fraction, Fraction, Fraction, Fraction, int, Fraction]:
        return (
            -self._weighted(HIT),
            -self._weighted(NEAR),
            self.weighted_mean_square,
            self.worst_frames,
            roundness(self.bpm),
            self.bpm,
        )

    def to_dict(self, start_frame: int = 0) -> dict[str, Any]:
        """Plain data for JSON: the contract fields ``bpm``, ``click``, ``hits``, ``near``,
        ``miss``, ``errors_frames`` (one per hit) and more."""
        hits, near, miss = self.counts
        downbeat = start_frame + self.offset * self.rate.fps
        return {
            "bpm": float(self.bpm),
            "bpm_exact": _fraction_text(self.bpm),
            "click": self.click,
            "frames_per_beat": float(self.frames_per_beat),
            "on_click_grid": self.on_click_grid,
            "hits": hits,
            "near": near,
            "miss": miss,
            "weighted_hits": float(self._weighted(HIT)),
            "rms_frames": self.rms_frames,
            "worst_frames": float(self.worst_frames),
            "downbeat_s": float(self.offset),
            "downbeat_timecode": (
                format_timecode(int(downbeat), self.rate) if downbeat.denominator == 1 else ""
            ),
            "pickup_beats": self.pickup_beats,
            "errors_frames": [float(r.error_frames) for r in self.results],
            "status": [r.status for r in self.results],
            "beats": [float(r.beat) for r in self.results],
            "bar_beat": [r.bar_beat for r in self.results],
            "labels": [r.hit.label for r in self.results],
        }


def _fraction_text(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def evaluate(
    hits: Sequence[Hit],
    bpm: Fraction,
    *,
    rate: FrameRate,
    offset: Fraction = Fraction(0),
    beats_per_bar: int = 4,
) -> Candidate:
    """Score one tempo exactly: every hit's nearest allowed grid point and its error.

    >>> from ictus.timebase import FPS_24
    >>> c = evaluate([Hit(Fraction(53, 24))], Fraction(120), rate=FPS_24)
    >>> c.results[0].beat, c.results[0].error_frames, c.results[0].status
    (Fraction(4, 1), Fraction(5, 1), 'miss')
    >>> c = evaluate([Hit(Fraction(53, 24), grid="8th")], Fraction(120), rate=FPS_24)
    >>> c.results[0].beat, c.results[0].error_frames, c.results[0].status, c.results[0].bar_beat
    (Fraction(9, 2), Fraction(-1, 1), 'near', '2|1.5')
    """
    if bpm <= 0:
        raise ParameterError(f"tempo must be > 0, got {bpm}")
    beat_length = seconds_at_tempo(1, bpm)
    results = []
    for hit in hits:
        step = beat_length / hit.divisions
        n = math.floor((hit.time - offset) / step + _HALF)
        error = (hit.time - offset - n * step) * rate.fps
        beat = Fraction(n, hit.divisions)
        bar = math.floor(beat / beats_per_bar)
        results.append(
            HitResult(hit, beat, bar + 1, beat - bar * beats_per_bar + 1, error, classify(error))
        )
    return Candidate(Fraction(bpm), Fraction(offset), rate, beats_per_bar, tuple(results))


# -- the search -----------------------------------------------------------------------


@dataclass
class _Arrays:
    """The hits as float arrays for scoring many tempos at once."""

    t: NDArray[np.float64]
    d: NDArray[np.float64]
    w: NDArray[np.float64]
    fps: float

    @classmethod
    def of(cls, hits: Sequence[Hit], rate: FrameRate) -> _Arrays:
        return cls(
            np.array([float(h.time) for h in hits]),
            np.array([float(h.divisions) for h in hits]),
            np.array([float(h.weight) for h in hits]),
            float(rate.fps),
        )


def _score(
    a: _Arrays, beat: NDArray[np.float64], offset: NDArray[np.float64]
) -> tuple[NDArray[Any], ...]:
    """Float scores of tempos (beat lengths) and downbeat offsets, one row per candidate.

    Returns (n, error, mask of hit or near, weighted hits, weighted nears, weighted mean
    square error, worst error).
    """
    step = beat[:, None] / a.d[None, :]
    rel = a.t[None, :] - offset[:, None]
    n = np.floor(rel / step + 0.5)
    err = (rel - n * step) * a.fps
    hit = np.abs(err) <= 0.5 + _EPS
    near = ~hit & (err >= -2 - _EPS) & (err <= 1 + _EPS)
    w = a.w[None, :]
    total = max(float(a.w.sum()), 1e-300)
    counted = a.w > 0
    worst = np.abs(err[:, counted]).max(axis=1) if counted.any() else np.zeros(len(beat))
    return (
        n,
        err,
        hit | near,
        (hit * w).sum(axis=1),
        (near * w).sum(axis=1),
        (w * err * err).sum(axis=1) / total,
        worst,
    )


def _least_squares(
    a: _Arrays,
    n: NDArray[np.float64],
    mask: NDArray[np.bool_],
    beat: NDArray[np.float64],
    offset: NDArray[np.float64],
    free_offset: bool,
    free_beat: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Refine beat lengths (and offsets) by weighted least squares over caught hits."""
    b = n / a.d[None, :]  # beats from the downbeat
    w = a.w[None, :] * mask
    t = a.t[None, :]
    sw, sb, sbb = w.sum(1), (w * b).sum(1), (w * b * b).sum(1)
    st, stb = (w * t).sum(1), (w * t * b).sum(1)
    new_beat, new_offset = beat.copy(), offset.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        if free_offset and free_beat:
            det = sw * sbb - sb * sb
            ok = np.abs(det) > 1e-12 * np.maximum(sw * sbb, 1e-300)
            lb = (sw * stb - sb * st) / det
            lo = (st - lb * sb) / sw
            new_beat = np.where(ok, lb, beat)
            new_offset = np.where(ok, lo, offset)
        elif free_beat:
            ok = sbb > 0
            new_beat = np.where(ok, ((w * (t - offset[:, None]) * b).sum(1)) / sbb, beat)
        else:
            ok = sw > 0
            new_offset = np.where(ok, (st - beat * sb) / sw, offset)
    return new_beat, new_offset


def _float_roundness(bpm: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`roundness` for float tempos (a tempo within 1e-9 of a short decimal is one)."""
    score = np.full(len(bpm), 7.0)
    for value, scale in reversed(list(enumerate((1, 2, 4, 10, 20, 100, 1000)))):
        scaled = bpm * scale
        score[np.abs(scaled - np.round(scaled)) < 1e-9 * scale] = value
    return score


def _free_candidates(
    a: _Arrays, lo_beat: float, hi_beat: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Beat lengths that put some hit exactly on one of its grid points (downbeat at 0)."""
    beats, offsets = [], []
    for t, d in zip(a.t.tolist(), a.d.tolist(), strict=True):
        if t <= 0:
            continue
        # beat = t * d / m must lie in [lo_beat, hi_beat]
        m = np.arange(math.ceil(t * d / hi_beat - 1e-9), math.floor(t * d / lo_beat + 1e-9) + 1)
        m = m[m > 0]
        beats.append(t * d / m)
        offsets.append(np.zeros(len(m)))
    if not beats:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(beats), np.concatenate(offsets)


def _pickup_candidates(
    a: _Arrays, hits: Sequence[Hit], lo_beat: float, hi_beat: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Beat lengths and phases that put two hits exactly on grid points."""
    # The heaviest hit (on the beat if it can) and the first one anchor the pairs: a good
    # fit catches them. The partner is taken on its own grid; refitting fixes the rest.
    order = sorted(range(len(hits)), key=lambda i: (-hits[i].weight, a.d[i], hits[i].time))
    anchors = list(dict.fromkeys([order[0], 0]))
    beats, offsets = [], []
    for i in anchors:
        for j in range(len(hits)):
            gap = abs(a.t[j] - a.t[i])
            if j == i or gap <= 0:
                continue
            common = float(a.d[j])
            m = np.arange(
                math.ceil(gap * common / hi_beat - 1e-9),
                math.floor(gap * common / lo_beat + 1e-9) + 1,
            )
            m = m[m > 0]
            beat = gap * common / m
            for r in range(int(a.d[i])):
                beats.append(beat)
                offsets.append(np.mod(a.t[i] - r * beat / a.d[i], beat))
    if not beats:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(beats), np.concatenate(offsets)


def _fixed_tempo_candidates(
    a: _Arrays, tempos: NDArray[np.float64], pickup: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fixed beat lengths; with a pickup, each with the phases that put a hit on the grid."""
    if not pickup:
        return tempos, np.zeros(len(tempos))
    beats, offsets = [], []
    for t, d in zip(a.t.tolist(), a.d.tolist(), strict=True):
        for r in range(int(d)):
            beats.append(tempos)
            offsets.append(np.mod(t - r * tempos / d, tempos))
    return np.concatenate(beats), np.concatenate(offsets)


def _preselect(
    a: _Arrays,
    beat: NDArray[np.float64],
    offset: NDArray[np.float64],
    *,
    lo_beat: float,
    hi_beat: float,
    refine: str,
    keep: int,
) -> list[tuple[float, float, NDArray[np.float64], NDArray[np.bool_]]]:
    """Score every candidate in float, refine, and keep the best distinct assignments.

    ``refine`` is ``"beat"`` (free tempo, downbeat at 0), ``"both"`` (free tempo and
    downbeat), ``"offset"`` (fixed tempo, free downbeat) or ``"none"``.
    """
    pool_beat, pool_off, pool_key = [], [], []
    for s in range(0, len(beat), _CHUNK):
        b, o = beat[s : s + _CHUNK], offset[s : s + _CHUNK]
        n, _, mask, whit, wnear, wms, worst = _score(a, b, o)
        rows = [(b, o, whit, wnear, wms, worst)]
        if refine != "none":
            rb, ro = _least_squares(
                a,
                n,
                mask,
                b,
                o,
                free_offset=refine in ("both", "offset"),
                free_beat=refine != "offset",
            )
            if refine != "beat":
                ro = np.mod(ro, rb)
            inside = (rb >= lo_beat * (1 - 1e-12)) & (rb <= hi_beat * (1 + 1e-12))
            rb, ro = rb[inside], ro[inside]
            if len(rb):
                _, _, _, whit2, wnear2, wms2, worst2 = _score(a, rb, ro)
                rows.append((rb, ro, whit2, wnear2, wms2, worst2))
        for rb_, ro_, whit_, wnear_, wms_, worst_ in rows:
            pool_beat.append(rb_)
            pool_off.append(ro_)
            pool_key.append(
                np.stack(
                    [
                        -np.round(whit_, 9),
                        -np.round(wnear_, 9),
                        np.round(wms_, 9),
                        np.round(worst_, 9),
                        _float_roundness(60 / rb_),
                    ],
                    axis=1,
                )
            )
    if not pool_beat:
        return []
    all_beat = np.concatenate(pool_beat)
    all_off = np.concatenate(pool_off)
    keys = np.concatenate(pool_key)
    # the exact ranking's order: weighted hits, nears, mean square, worst, roundness, BPM
    order = np.lexsort(
        (all_off, -all_beat, keys[:, 4], keys[:, 3], keys[:, 2], keys[:, 1], keys[:, 0])
    )
    # refits of one placement land on one tempo: drop the copies (now side by side)
    sb, so = all_beat[order], all_off[order]
    copy = np.zeros(len(order), dtype=bool)
    copy[1:] = (np.abs(np.diff(sb)) <= 1e-12 * sb[1:]) & (np.abs(np.diff(so)) <= 1e-12)
    order = order[~copy]
    chosen: list[tuple[float, float, NDArray[np.float64], NDArray[np.bool_]]] = []
    seen: set[bytes] = set()
    for s in range(0, len(order), 256):
        idx = order[s : s + 256]
        n, _, mask, *_ = _score(a, all_beat[idx], all_off[idx])
        for k, i in enumerate(idx.tolist()):
            key = n[k].astype(np.int64).tobytes()
            if key in seen:
                continue
            seen.add(key)
            chosen.append((float(all_beat[i]), float(all_off[i]), n[k], mask[k]))
            if len(chosen) >= keep:
                return chosen
    return chosen


def _exact_ls(
    hits: Sequence[Hit], n: NDArray[np.float64], mask: NDArray[np.bool_], offset: Fraction | None
) -> tuple[Fraction, Fraction] | None:
    """Exact weighted least squares (beat length, offset) over the masked hits."""
    rows = [
        (h.weight, h.time, Fraction(int(k), h.divisions))
        for h, k, m in zip(hits, n.tolist(), mask.tolist(), strict=True)
        if m and h.weight > 0
    ]
    if not rows:
        return None
    sbb = sum((w * b * b for w, _, b in rows), Fraction(0))
    if offset is not None:
        if sbb == 0:
            return None
        return sum((w * (t - offset) * b for w, t, b in rows), Fraction(0)) / sbb, offset
    sw = sum((w for w, _, _ in rows), Fraction(0))
    sb = sum((w * b for w, _, b in rows), Fraction(0))
    st = sum((w * t for w, t, _ in rows), Fraction(0))
    stb = sum((w * t * b for w, t, b in rows), Fraction(0))
    det = sw * sbb - sb * sb
    if det == 0:
        return None
    beat = (sw * stb - sb * st) / det
    return beat, (st - beat * sb) / sw


def _place_downbeat(
    hits: Sequence[Hit], beat: Fraction, offset: Fraction, rate: FrameRate, beats_per_bar: int
) -> list[Fraction]:
    """Frames (from the cue start) where the first downbeat may go for a phase.

    The downbeat lies in the first bar and on a whole frame, so the beats of the bar
    nearest whole frames come first; so does the beat that puts the heaviest hits on
    downbeats. Each is tried on the frame before and after it.
    """
    base = float(offset % beat)
    length, fps = float(beat), float(rate.fps)

    def on_downbeats(j: int) -> float:
        o = base + j * length
        total = 0.0
        for h in hits:
            k = (float(h.time) - o) / length
            if abs(k - round(k)) * length * fps <= 0.5 and round(k) % beats_per_bar == 0:
                total += float(h.weight)
        return total

    def snap(j: int) -> float:
        frames = (base + j * length) * fps
        return abs(frames - round(frames))

    bar = range(beats_per_bar)
    chosen = {*sorted(bar, key=snap)[:2], max(bar, key=lambda j: (on_downbeats(j), -j))}
    out: set[Fraction] = set()
    for j in chosen:
        frames = (offset % beat + j * beat) * rate.fps
        out.update((Fraction(math.floor(frames)), Fraction(math.ceil(frames))))
    # a phase just short of a whole beat is a downbeat on the cue start itself
    if (beat - offset % beat) * rate.fps < 1:
        out.add(Fraction(0))
    return sorted(out)


def fit_tempo(
    hits: Sequence[Hit],
    *,
    rate: FrameRate,
    lo: float | Fraction,
    hi: float | Fraction,
    mode: str = "free",
    beats_per_bar: int = 4,
    pickup: bool = False,
    limit: int = 10,
) -> list[Candidate]:
    """The best tempos for ``hits``, best first (at most ``limit``, distinct hit placements).

    Parameters
    ----------
    hits
        Hit points, times in seconds after the cue start.
    rate
        The picture's frame rate (errors are in its frames; click mode uses its clicks).
    lo, hi
        Tempo range in BPM of the click's beat, ``0 < lo <= hi``.
    mode
        ``"free"``, ``"quarter-bpm"`` or ``"click"``.
    beats_per_bar
        For bar numbers, and for choosing the downbeat with ``pickup``.
    pickup
        Let the first downbeat fall after the cue start (on a whole frame within the
        first bar) instead of on it.
    limit
        How many candidates to return.

    Raises
    ------
    ParameterError
        For an empty hit list, a bad range or mode, or no candidate in the range.
    """
    lo_f, hi_f = _check_fit(hits, lo=lo, hi=hi, mode=mode, beats_per_bar=beats_per_bar, limit=limit)
    hits = sorted(hits, key=lambda h: h.time)
    a = _Arrays.of(hits, rate)
    lo_beat, hi_beat = 60 / float(hi_f), 60 / float(lo_f)
    keep = max(3 * limit, 24)

    if mode == "free":
        beat, offset = _free_start(a, hits, lo_f, hi_f, pickup=pickup)
        refine = "both" if pickup else "beat"
    else:
        exact = _fixed_tempos(mode, rate, lo_f, hi_f)
        if not exact:
            raise ParameterError(f"no {mode} tempo lies in {lo}-{hi} BPM at {rate.name} fps")
        tempos = np.array([float(x) for x in exact])
        beat, offset = _fixed_tempo_candidates(a, tempos, pickup)
        refine = "offset" if pickup else "none"
    if not len(beat):
        raise ParameterError(f"no tempo in {lo}-{hi} BPM puts a hit on the grid")

    chosen = _preselect(a, beat, offset, lo_beat=lo_beat, hi_beat=hi_beat, refine=refine, keep=keep)
    pool = _ExactPool(hits, rate, beats_per_bar, lo_f, hi_f)
    for beat_f, off_f, n, mask in chosen:
        beat_len = _grid_beat(mode, beat_f, rate)
        if not pickup:
            if mode == "free":
                _consider_free_on_cue(pool, beat_f, n, mask)
            else:
                pool.consider(beat_len, Fraction(0))
        else:
            _consider_pickup(pool, a, mode, beat_len, off_f, n, mask)

    out = _distinct(pool.candidates.values(), limit)
    if not out:
        raise ParameterError(f"no tempo in {lo}-{hi} BPM fits these hits")
    return out


def _check_fit(
    hits: Sequence[Hit],
    *,
    lo: float | Fraction,
    hi: float | Fraction,
    mode: str,
    beats_per_bar: int,
    limit: int,
) -> tuple[Fraction, Fraction]:
    """Refuse what :func:`fit_tempo` cannot fit; return the tempo range exactly."""
    if mode not in MODES:
        raise ParameterError(f"unknown fit mode {mode!r}; choose one of: {', '.join(MODES)}")
    if not hits:
        raise ParameterError("no hits to fit")
    early = min(hits, key=lambda h: h.time)
    if early.time < 0:
        raise ParameterError(
            f"hit {early.label!r} is {float(-early.time):.3f} s before the cue start"
        )
    lo_f, hi_f = Fraction(lo), Fraction(hi)
    if not 0 < lo_f <= hi_f:
        raise ParameterError(f"tempo range must be LO-HI with 0 < LO <= HI, got {lo}-{hi}")
    if beats_per_bar < 1 or limit < 1:
        raise ParameterError("beats per bar and limit must be >= 1")
    return lo_f, hi_f


def _free_start(
    a: _Arrays, hits: Sequence[Hit], lo_f: Fraction, hi_f: Fraction, *, pickup: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Free mode's first candidates (beat, offset): from pairs of hits, plus every
    whole BPM in the range."""
    lo_beat, hi_beat = 60 / float(hi_f), 60 / float(lo_f)
    if pickup:
        beat, offset = _pickup_candidates(a, hits, lo_beat, hi_beat)
    else:
        beat, offset = _free_candidates(a, lo_beat, hi_beat)
    # Round tempos (whole BPM) join in: they win ties, and cover hits at 0 only.
    whole = np.arange(math.ceil(lo_f), math.floor(hi_f) + 1, dtype=np.float64)
    extra_b, extra_o = _fixed_tempo_candidates(a, 60 / whole, pickup)
    return np.concatenate([beat, extra_b]), np.concatenate([offset, extra_o])


def _fixed_tempos(mode: str, rate: FrameRate, lo_f: Fraction, hi_f: Fraction) -> list[Fraction]:
    """Every beat length (seconds) the mode allows in the range: whole eighth-frame
    clicks (``click``) or quarter BPMs (``quarter-bpm``).

    >>> from ictus.timebase import FPS_24
    >>> [str(b) for b in _fixed_tempos("quarter-bpm", FPS_24, Fraction(120), Fraction(241, 2))]
    ['1/2', '240/481', '120/241']
    """
    if mode == "click":
        fps = rate.fps
        first = math.ceil(60 * fps * 8 / hi_f)
        last = math.floor(60 * fps * 8 / lo_f)
        return [Fraction(e, 8) / fps for e in range(max(first, 8), last + 1)]
    return [60 / Fraction(q, 4) for q in range(math.ceil(lo_f * 4), math.floor(hi_f * 4) + 1)]


def _grid_beat(mode: str, beat_f: float, rate: FrameRate) -> Fraction:
    """The exact beat length nearest ``beat_f`` that the mode allows."""
    if mode == "click":
        return Fraction(round(beat_f * float(rate.fps) * 8), 8) / rate.fps
    if mode == "quarter-bpm":
        return 60 / Fraction(round(60 / beat_f * 4), 4)
    return Fraction(beat_f)  # free: exact forms are rebuilt by the caller


class _ExactPool:
    """Exactly evaluated candidates by (BPM, offset), each evaluated once, only in range."""

    def __init__(
        self,
        hits: Sequence[Hit],
        rate: FrameRate,
        beats_per_bar: int,
        lo_f: Fraction,
        hi_f: Fraction,
    ) -> None:
        self.hits, self.rate, self.beats_per_bar = hits, rate, beats_per_bar
        self.lo_f, self.hi_f = lo_f, hi_f
        self.candidates: dict[tuple[Fraction, Fraction], Candidate] = {}

    def consider(self, beat_len: Fraction, off: Fraction) -> None:
        bpm = 60 / beat_len
        if not self.lo_f <= bpm <= self.hi_f or (bpm, off) in self.candidates:
            return
        self.candidates[(bpm, off)] = evaluate(
            self.hits, bpm, rate=self.rate, offset=off, beats_per_bar=self.beats_per_bar
        )


def _consider_free_on_cue(
    pool: _ExactPool, beat_f: float, n: NDArray[np.float64], mask: NDArray[np.bool_]
) -> None:
    """Free tempos with the downbeat on the cue start: the exact least-squares beat,
    the farthest caught hit exactly on its grid point, and the whole BPM if it is one."""
    hits = pool.hits
    fitted = _exact_ls(hits, n, mask, Fraction(0))
    if fitted is not None:
        pool.consider(fitted[0], Fraction(0))
    far = [
        (h.time, Fraction(int(k), h.divisions))
        for h, k, m in zip(hits, n.tolist(), mask.tolist(), strict=True)
        if m and k > 0
    ]
    if far:
        t, b = max(far)
        pool.consider(t / b, Fraction(0))
    whole_bpm = round(60 / beat_f)
    if abs(60 / beat_f - whole_bpm) < 1e-9:
        pool.consider(Fraction(60, whole_bpm), Fraction(0))


def _consider_pickup(
    pool: _ExactPool,
    a: _Arrays,
    mode: str,
    beat_len: Fraction,
    off_f: float,
    n: NDArray[np.float64],
    mask: NDArray[np.bool_],
) -> None:
    """A pickup: the downbeat goes on a whole frame, then the tempo is refitted to it."""
    hits, rate = pool.hits, pool.rate
    if mode == "free":
        fitted = _exact_ls(hits, n, mask, None)
        beat_len, phase = fitted if fitted is not None else (beat_len, Fraction(off_f))
    else:
        best_phase = _exact_ls_offset(hits, n, mask, beat_len)
        phase = best_phase if best_phase is not None else Fraction(off_f)
    if not beat_len > 0:
        return
    frames = _place_downbeat(hits, beat_len, phase, rate, pool.beats_per_bar)
    # score the placements in float first; only the best two are checked exactly
    scores = _score(
        a,
        np.full(len(frames), float(beat_len)),
        np.array([float(f / rate.fps) for f in frames]),
    )
    best = np.lexsort((scores[6], scores[5], -scores[4], -scores[3]))[:2]
    for frame in (frames[i] for i in best.tolist()):
        off = frame / rate.fps
        pool.consider(beat_len, off)
        if mode == "free":
            refit = _exact_ls(hits, *_assignment(hits, beat_len, off, rate), offset=off)
            if refit is not None and refit[0] > 0:
                pool.consider(refit[0], off)


def _distinct(candidates: Iterable[Candidate], limit: int) -> list[Candidate]:
    """The best ``limit`` candidates, one per placement of the hits on the grid."""
    ranked = sorted(candidates, key=lambda c: c.rank_key())
    out: list[Candidate] = []
    seen: set[tuple[Fraction, ...]] = set()
    for cand in ranked:
        placement = tuple(r.beat for r in cand.results)
        if placement in seen:
            continue
        seen.add(placement)
        out.append(cand)
        if len(out) >= limit:
            break
    return out


def _exact_ls_offset(
    hits: Sequence[Hit], n: NDArray[np.float64], mask: NDArray[np.bool_], beat: Fraction
) -> Fraction | None:
    """Exact least-squares downbeat for a fixed beat length."""
    rows = [
        (h.weight, h.time - Fraction(int(k), h.divisions) * beat)
        for h, k, m in zip(hits, n.tolist(), mask.tolist(), strict=True)
        if m and h.weight > 0
    ]
    total = sum((w for w, _ in rows), Fraction(0))
    if total == 0:
        return None
    return sum((w * x for w, x in rows), Fraction(0)) / total


def _assignment(
    hits: Sequence[Hit], beat: Fraction, offset: Fraction, rate: FrameRate
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Exact grid indexes of the hits and which of them are caught (hit or near)."""
    ns, mask = [], []
    for h in hits:
        step = beat / h.divisions
        k = math.floor((h.time - offset) / step + _HALF)
        ns.append(float(k))
        mask.append(classify((h.time - offset - k * step) * rate.fps) != MISS)
    return np.array(ns), np.array(mask)

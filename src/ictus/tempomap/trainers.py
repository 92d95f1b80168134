"""Practice trainers as parts of a section: gap click, speed trainer, polyrhythm layers.

Each is a small frozen value that a :class:`~ictus.tempomap.model.Section` holds:

- :class:`Gap` -- some bars pass in time without a sound: ``play`` bars on, ``mute``
  bars off, repeated from the section's first bar (:class:`GapCycle`), or a ``share``
  of the bars, chosen by a ``seed`` (:class:`GapShare`), the same bars on every run and
  every machine;
- :class:`SpeedTrainer` -- the tempo goes up (or down) by ``step`` every ``every`` bars
  until it reaches ``end``, then holds;
- :class:`Layer` -- ``pulses`` clicks evenly spread over each bar, on a sound of their
  own (3 against the 4 beats of 4/4, 5 against 4, ...).

No tempo turns into time here: the section turns a trainer into tempo steps, and the
timeline places them (:mod:`ictus.tempomap.timeline`).

>>> GapCycle(3, 1).muted_bars(8)
(3, 7)
>>> GapShare(Fraction(1, 4), seed=7).muted_bars(8)
(4, 7)
>>> SpeedTrainer(Fraction(4), 2, Fraction(92)).tempo_of_bar(Fraction(80), 5)
Fraction(88, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ictus.errors import ParameterError
from ictus.limits import MAX_PULSES
from ictus.patterns import lazy

#: Most polyrhythm layers one section may have.
MAX_LAYERS = 4

_MASK64 = (1 << 64) - 1
_SOUND_RE = lazy(r"^[a-z][a-z0-9_-]*\Z")


def splitmix64(state: int) -> tuple[int, int]:
    """One step of SplitMix64 (Steele, Lea and Flood 2014): ``(next state, output)``.

    The gap click draws its bars from this generator rather than from :mod:`random`,
    whose algorithms may change between Python versions: a seed names the same bars
    everywhere, for ever.

    >>> hex(splitmix64(0)[1])
    '0xe220a8397b1dcdaf'
    """
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def _whole(value: object, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ParameterError(f"{what} must be a whole number >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ParameterError(f"{what} must be at most {high}, got {value!r}")
    return value


@dataclass(frozen=True)
class GapCycle:
    """Play ``play`` bars, mute ``mute`` bars, and again, from the section's first bar.

    >>> GapCycle(2, 2).muted_bars(7)
    (2, 3, 6)
    """

    play: int
    mute: int

    def __post_init__(self) -> None:
        _whole(self.play, "gap: bars played", 1)
        _whole(self.mute, "gap: bars muted", 1)

    def muted_bars(self, bars: int) -> tuple[int, ...]:
        """The 0-based bars of a section of ``bars`` bars that make no sound."""
        period = self.play + self.mute
        return tuple(b for b in range(bars) if b % period >= self.play)

    def __str__(self) -> str:
        return f"{self.play}:{self.mute}"


@dataclass(frozen=True)
class GapShare:
    """Mute ``share`` (0 < share <= 1) of a section's bars, the bars chosen by ``seed``.

    Exactly ``round(share * bars)`` bars are muted (halves round up). They are the first
    of a Fisher-Yates shuffle of ``0..bars-1`` driven by :func:`splitmix64` from
    ``seed``: position ``i`` swaps with ``i + output % (bars - i)``.

    >>> GapShare(Fraction(1, 2), seed=1).muted_bars(4)
    (1, 2)
    """

    share: Fraction
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.share, Fraction | int) or isinstance(self.share, bool):
            raise ParameterError(f"gap: the muted share must be exact, got {self.share!r}")
        object.__setattr__(self, "share", Fraction(self.share))
        if not 0 < self.share <= 1:
            raise ParameterError(
                f"gap: the muted share must be more than 0 % and at most 100 %, "
                f"got {float(self.share * 100):g} %"
            )
        _whole(self.seed, "gap seed", 0, _MASK64)

    def count(self, bars: int) -> int:
        """How many of ``bars`` bars are muted: ``share * bars``, halves rounded up."""
        return int(self.share * bars + Fraction(1, 2))

    def muted_bars(self, bars: int) -> tuple[int, ...]:
        """The 0-based bars of a section of ``bars`` bars that make no sound."""
        k = self.count(bars)
        order = list(range(bars))
        state = self.seed
        for i in range(k):
            state, out = splitmix64(state)
            j = i + out % (bars - i)
            order[i], order[j] = order[j], order[i]
        return tuple(sorted(order[:k]))

    def __str__(self) -> str:
        percent = self.share * 100
        text = str(percent.numerator) if percent.denominator == 1 else str(float(percent))
        if Fraction(text) != percent:  # 100/3 %: no decimal says it exactly
            raise ParameterError(f"gap share {self.share} has no exact percent")
        return f"{text}%"


#: A gap click: a repeating cycle or a seeded share.
Gap = GapCycle | GapShare


@dataclass(frozen=True)
class SpeedTrainer:
    """Raise the tempo by ``step`` (BPM in the section's beat unit; negative: slower)
    every ``every`` bars, until it reaches ``end``, which then holds.

    >>> t = SpeedTrainer(Fraction(-5), 1, Fraction(90))
    >>> [t.tempo_of_bar(Fraction(100), b) for b in range(4)]
    [Fraction(100, 1), Fraction(95, 1), Fraction(90, 1), Fraction(90, 1)]
    """

    step: Fraction
    every: int
    end: Fraction

    def __post_init__(self) -> None:
        for name in ("step", "end"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Fraction | int):
                raise ParameterError(f"speed trainer {name} must be exact, got {value!r}")
            object.__setattr__(self, name, Fraction(value))
        if self.step == 0:
            raise ParameterError("speed trainer step must not be 0")
        if self.end <= 0:
            raise ParameterError(f"speed trainer end tempo must be > 0, got {self.end}")
        _whole(self.every, "speed trainer: bars per step", 1)

    def check_start(self, start: Fraction) -> None:
        """The end must lie the way the step goes from ``start``."""
        if (self.end - start) * self.step < 0:
            way = "up" if self.step > 0 else "down"
            raise ParameterError(
                f"speed trainer goes {way} from {start} but ends at {self.end}: "
                f"give a step of {'-' if self.step > 0 else '+'}{abs(self.step)}"
            )

    def tempo_of_step(self, start: Fraction, k: int) -> Fraction:
        """The tempo after ``k`` steps from ``start``: ``start + k * step``, capped at the end."""
        tempo = start + k * self.step
        return min(tempo, self.end) if self.step > 0 else max(tempo, self.end)

    def tempo_of_bar(self, start: Fraction, bar: int) -> Fraction:
        """The tempo of 0-based ``bar`` of a section starting at ``start``."""
        return self.tempo_of_step(start, bar // self.every)

    def steps_to_end(self, start: Fraction) -> int:
        """How many steps it takes from ``start`` to reach the end (the last may be short).

        >>> SpeedTrainer(Fraction(4), 1, Fraction(90)).steps_to_end(Fraction(80))
        3
        """
        return -(abs(self.end - start) // -abs(self.step))


@dataclass(frozen=True)
class Layer:
    """``pulses`` clicks spread evenly over each bar, on the built-in sound ``sound``
    (None: one different from the main click's; see :mod:`ictus.render.mixer`).

    >>> Layer(3, "clave")
    Layer(pulses=3, sound='clave')
    """

    pulses: int
    sound: str | None = None

    def __post_init__(self) -> None:
        _whole(self.pulses, "layer pulses per bar", 1, MAX_PULSES)
        if self.sound is not None and (
            not isinstance(self.sound, str) or not _SOUND_RE.match(self.sound)
        ):
            raise ParameterError(f"layer sound must be a sound's name, got {self.sound!r}")

    def __str__(self) -> str:
        return str(self.pulses) if self.sound is None else f"{self.pulses}:{self.sound}"


def check_layers(layers: tuple[Layer, ...]) -> tuple[Layer, ...]:
    layers = tuple(layers)
    if len(layers) > MAX_LAYERS:
        raise ParameterError(f"a section has at most {MAX_LAYERS} layers, got {len(layers)}")
    if not all(isinstance(layer, Layer) for layer in layers):
        raise ParameterError("layers must be Layer values")
    return layers

"""What a user (or anything acting for one) asks of the engine, as typed values.

The display's keys, OSC messages, the web remote and followers (:mod:`.followers`)
all say what they want with these, through :meth:`ictus.engine.Engine.request`, so they
move the transport exactly as the control methods do (one path, one set of rules).

>>> Locate(5), JumpAtNextBar("chorus"), SetScale(90)
(Locate(target=5), JumpAtNextBar(target='chorus'), SetScale(percent=90))
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple


class Start(NamedTuple):
    """Play from the cue bar, with the count-in (:meth:`Engine.start`)."""


class Stop(NamedTuple):
    """Stop; the next start plays from the cue bar again."""


class Pause(NamedTuple):
    """Stop where we are."""


class Continue(NamedTuple):
    """Go on after a pause (no count-in); otherwise the same as :class:`Start`."""


class Locate(NamedTuple):
    """Go to a bar (number) or a section (label)."""

    target: int | str


class Step(NamedTuple):
    """Go ``bars`` bars forward (negative: back) from the bar being played."""

    bars: int


class Loop(NamedTuple):
    """Repeat the section with this label (None: stop looping)."""

    label: str | None


class JumpAtNextBar(NamedTuple):
    """At the next bar line, go to a bar or section."""

    target: int | str


class SetScale(NamedTuple):
    """Scale every tempo to ``percent`` (100: as written)."""

    percent: float | Fraction | str


class NudgeScale(NamedTuple):
    """Change the tempo scale by ``points`` percent."""

    points: float


class Chase(NamedTuple):
    """Be at map time ``seconds`` at backend clock ``clock``, playing (or waiting there).

    A follower's locate, to the sample: ``seconds`` counts from bar 1's downbeat at the
    engine's tempo scale (negative: before it, in the count-in when there is one), and
    ``clock`` is the backend clock (:attr:`Where.clock`) it belongs to, in the past or
    the future; the transport carries the place to the block it is applied in.
    """

    seconds: float
    clock: int
    play: bool = True


class Tap(NamedTuple):
    """A tap of the beat at ``at`` seconds (monotonic clock; None: now)."""

    at: float | None = None


Request = (
    Start
    | Stop
    | Pause
    | Continue
    | Locate
    | Step
    | Loop
    | JumpAtNextBar
    | SetScale
    | NudgeScale
    | Tap
    | Chase
)

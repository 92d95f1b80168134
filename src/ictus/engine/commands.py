"""Commands the control side hands to the transport: small typed values, cheap to make.

Each is a :class:`~typing.NamedTuple` (one tuple allocation, no dictionary), queued by
:meth:`~ictus.engine.transport.Transport.send` and applied by the audio callback at the
start of its next block. Anything expensive a command needs (a plan for another bar or
tempo scale) is built by the control side before it is sent.

>>> Go(5, None, None, True)
Go(bar=5, plan=None, fallback=None, play=True)
>>> isinstance(Pause(), tuple), SetLoop(2).section
(True, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ictus.engine.plan import Plan, PlanKey


class Go(NamedTuple):
    """Move to ``bar``'s downbeat (None: the start of ``plan``, count-in and pre-roll
    included), then play (``play``) or stay stopped there. ``plan`` None keeps the current
    plan if it holds ``bar``, else switches to ``fallback``."""

    bar: int | None
    plan: Plan | None
    fallback: Plan | None
    play: bool


class Pause(NamedTuple):
    """Stop where we are, keeping the place for :class:`Resume`."""


class Resume(NamedTuple):
    """Go on from the paused place (no count-in)."""


class Stop(NamedTuple):
    """Stop; a pending jump is dropped."""


class SetLoop(NamedTuple):
    """Repeat map section ``section`` whenever the transport reaches its end (-1: no
    loop). A move to a bar after the section ends the loop."""

    section: int


class JumpAtNextBar(NamedTuple):
    """At the next bar line, go to ``bar`` (in ``fallback`` if the current plan lacks
    it). Stopped: go there at once."""

    bar: int
    fallback: Plan | None


class Rescale(NamedTuple):
    """Replace the current plan (and a pending jump's) by the plan with the same key in
    ``plans``, at the same musical position."""

    plans: Mapping[PlanKey, Plan]


class Place(NamedTuple):
    """Be at grid frame ``frame`` of ``plan`` at backend clock ``clock``, playing or not.

    A follower's locate, to the sample: ``clock`` may lie before or after the block the
    command is applied in (the frame is carried to that block's start), so a place
    measured against another clock (Link's host time, incoming timecode) lands exactly
    where it was meant to, however late the command arrives. Stopped, the transport
    waits at ``frame``.
    """

    frame: int
    clock: int
    plan: Plan
    play: bool


class Rebase(NamedTuple):
    """The backend's clock restarted (a reconnect): continue from the last position."""


#: everything :meth:`~ictus.engine.transport.Transport.send` accepts
Command = Go | Pause | Resume | Stop | SetLoop | JumpAtNextBar | Rescale | Place | Rebase

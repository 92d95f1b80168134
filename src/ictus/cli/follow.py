"""``ictus play``'s Link and follower options: ``--link``, ``--link-quantum N``,
``--follow link|ltc|mtc|midi-clock`` with ``--midi-in PORT`` / ``--ltc-in CH``.

:func:`follow_settings` checks the options (usage mistakes exit 2);
:func:`follow_parts` makes what they attach to the engine (a Link leader, a follower).
docs/FOLLOW.md has the rules.

>>> follow_settings(True, "4", None, None, None)
FollowSettings(link=True, quantum=Fraction(4, 1), follow=None, midi_in=None, ltc_in=None)
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

from ictus.cli.common import UsageError


class FollowSource(enum.StrEnum):
    """What ``--follow`` names."""

    LINK = "link"
    LTC = "ltc"
    MTC = "mtc"
    MIDI_CLOCK = "midi-clock"


@dataclass(frozen=True)
class FollowSettings:
    link: bool
    quantum: Fraction | None
    follow: FollowSource | None
    midi_in: str | None
    ltc_in: int | None

    @property
    def following(self) -> bool:
        """The transport waits for its source instead of starting by itself."""
        return self.follow is not None


def _quantum(quantum: str | None) -> Fraction | None:
    """``--link-quantum``: quarters > 0 (``4``, ``7/2``), or None."""
    if quantum is None:
        return None
    try:
        value: Fraction | None = Fraction(quantum)
    except (ValueError, ZeroDivisionError):
        value = None
    if value is None or value <= 0:
        raise UsageError(f"--link-quantum: expected quarters > 0 such as 4 or 7/2, got {quantum!r}")
    return value


def _source(follow: str | None) -> FollowSource | None:
    """``--follow``: which source moves the transport, or None."""
    if follow is None:
        return None
    try:
        return FollowSource(follow.strip().lower())
    except ValueError:
        if follow.strip().lower() == "jack":
            raise UsageError(
                "--follow jack: use --jack-transport follow (the JACK transport)"
            ) from None
        names = "|".join(s.value for s in FollowSource)
        raise UsageError(f"--follow: choose {names}, got {follow!r}") from None


def _check_inputs(source: FollowSource | None, midi_in: str | None, ltc_in: int | None) -> None:
    """``--midi-in`` and ``--ltc-in`` go with the sources that read them."""
    reads_midi = source in (FollowSource.MTC, FollowSource.MIDI_CLOCK)
    if reads_midi and midi_in is None:
        raise UsageError(
            f"--follow {source} needs --midi-in PORT (a JACK MIDI port to read, or 'none' "
            "to connect later)"
        )
    if midi_in is not None and not reads_midi:
        raise UsageError("--midi-in needs --follow mtc or --follow midi-clock")
    if source is FollowSource.LTC and ltc_in is None:
        raise UsageError("--follow ltc needs --ltc-in CH (the JACK input carrying LTC)")
    if ltc_in is not None:
        if source is not FollowSource.LTC:
            raise UsageError("--ltc-in needs --follow ltc")
        if not 1 <= ltc_in <= 64:
            raise UsageError(f"--ltc-in: an input channel 1..64, got {ltc_in}")


def follow_settings(
    link: bool,
    quantum: str | None,
    follow: str | None,
    midi_in: str | None,
    ltc_in: int | None,
) -> FollowSettings:
    """Check the options; a mistake is a one-line usage error.

    >>> follow_settings(False, None, "ltc", None, 2).follow
    <FollowSource.LTC: 'ltc'>
    >>> follow_settings(False, None, "mtc", None, None)
    Traceback (most recent call last):
    ...
    ictus.cli.common.UsageError: --follow mtc needs --midi-in PORT (a JACK MIDI port to \
read, or 'none' to connect later)
    """
    value = _quantum(quantum)
    source = _source(follow)
    if value is not None and not link and source is not FollowSource.LINK:
        raise UsageError("--link-quantum needs --link or --follow link")
    _check_inputs(source, midi_in, ltc_in)
    if link and source is not None and source is not FollowSource.LINK:
        raise UsageError(f"--link leads the session: it cannot follow {source} at once")
    return FollowSettings(link, value, source, midi_in, ltc_in)


def start_bar_of(tempo_map: Any, from_label: str | None, from_bar: int | None) -> int:
    """The bar playing starts at (as the engine reckons it)."""
    if from_label is not None:
        return int(tempo_map.first_bar_of(tempo_map.section_index(from_label)))
    return from_bar or 1


class FollowParts(NamedTuple):
    """What the options attach: event outputs, followers, and ``bind`` (called with the
    open engine; returns what to call after the engine closed), or None."""

    event_outputs: tuple[Any, ...] = ()
    followers: tuple[Any, ...] = ()
    bind: Callable[[Any], Callable[[], None]] | None = None


def follow_parts(
    settings: FollowSettings,
    tempo_map: Any,
    from_label: str | None,
    from_bar: int | None,
    backend: str,
    device: str | None,
    client_name: str,
) -> FollowParts:
    """The Link leader (an event output), the follower, and the binding that hands the
    open engine's clock to the leader (and leaves the Link session after the engine).

    >>> follow_parts(follow_settings(False, None, None, None, None), None, None, None,
    ...              "null", None, "ictus")
    FollowParts(event_outputs=(), followers=(), bind=None)
    """
    if not settings.link and settings.follow is None:
        return FollowParts()
    start_bar = start_bar_of(tempo_map, from_label, from_bar)
    if settings.follow is not None and settings.follow is not FollowSource.LINK:
        if backend != "jack":
            raise UsageError(f"--follow {settings.follow} reads a JACK input: use --backend jack")
        from ictus.engine.chase import make_chaser

        chaser = make_chaser(
            settings.follow.value,
            tempo_map,
            settings.midi_in,
            settings.ltc_in,
            device,
            client_name,
        )
        return FollowParts(followers=(chaser,))
    from ictus.sync.link import QuantumRule

    quantum = QuantumRule(settings.quantum)
    if settings.follow is FollowSource.LINK:
        from ictus.engine.link import LinkFollow

        return FollowParts(followers=(LinkFollow(tempo_map, start_bar, quantum),))
    from ictus.engine.link import LinkLead

    bound: list[Any] = []  # the engine, once open

    def host_time(clock: int) -> int:
        if not bound:  # before the engine is open: the clock has no meaning yet
            import time

            return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000
        return int(bound[0].host_time(clock))

    lead = LinkLead(tempo_map, start_bar, quantum, host_time)

    def bind(engine: Any) -> Callable[[], None]:
        bound.append(engine)
        return lead.close

    return FollowParts(event_outputs=(lead,), bind=bind)

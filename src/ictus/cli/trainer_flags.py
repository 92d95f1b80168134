"""The practice flags of ``ictus play``, ``ictus render`` and ``ictus practice``:
``--gap``, ``--seed`` and ``--speed-trainer``, read and applied to the map
(:mod:`ictus.tempomap.drills`).

>>> start, trainer = parse_speed_trainer("80+4/2..120")
>>> start, trainer.step, trainer.every, trainer.end
(Fraction(80, 1), Fraction(4, 1), 2, Fraction(120, 1))
>>> parse_gap("30%", 7)
GapShare(share=Fraction(3, 10), seed=7)
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple

from ictus.cli.common import UsageError
from ictus.errors import ParameterError
from ictus.tempomap import TempoMap

if TYPE_CHECKING:  # loaded when a flag is given (start-up of a plain render)
    from ictus.tempomap.trainers import Gap, SpeedTrainer

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_START_RE = re.compile(rf"^({_NUM})(?=[-+])")


def parse_gap(text: str, seed: int | None) -> Gap:
    """``--gap PLAY:MUTE`` or ``--gap SHARE%`` (with ``--seed``), as the format's ``gap=``."""
    from ictus.formats.clickfile import parse_gap as read_gap
    from ictus.tempomap.trainers import GapShare

    try:
        gap = read_gap(text)
    except ParameterError as err:
        raise UsageError(f"--gap: {err}") from None
    if seed is not None:
        if not isinstance(gap, GapShare):
            raise UsageError("--seed chooses the bars of --gap SHARE%: give --gap 30% with it")
        try:
            gap = GapShare(gap.share, seed)
        except ParameterError as err:
            raise UsageError(f"--seed: {err}") from None
    return gap


def parse_speed_trainer(text: str) -> tuple[Fraction | None, SpeedTrainer]:
    """``[START]+STEP[/N]..END``: the start tempo (None: the section's) and the trainer."""
    from ictus.formats.clickfile import parse_trainer

    m = _START_RE.match(text)
    start = Fraction(m.group(1)) if m else None
    try:
        trainer = parse_trainer(text[m.end() :] if m else text)
        if start is not None:
            if start == 0:
                raise ParameterError("the start tempo must be greater than 0")
            trainer.check_start(start)
    except ParameterError as err:
        raise UsageError(f"--speed-trainer: {err}") from None
    return start, trainer


class Drilled(NamedTuple):
    """The map to play and where: a looped speed trainer moves both (see
    :func:`ictus.tempomap.drills.faster_each_time`)."""

    tempo_map: TempoMap
    from_label: str | None
    loop: str | None


def apply_trainers(
    tempo_map: TempoMap,
    *,
    gap: str | None,
    seed: int | None,
    speed_trainer: str | None,
    loop: str | None = None,
    from_label: str | None = None,
) -> Drilled:
    """The map with the command line's trainers, and where to start and what to loop."""
    if gap is None and seed is None and speed_trainer is None:
        return Drilled(tempo_map, from_label, loop)  # none: drills need not load (start-up)
    from ictus.tempomap import drills

    if seed is not None and gap is None:
        raise UsageError("--seed goes with --gap SHARE%")
    chosen_gap = parse_gap(gap, seed) if gap is not None else None
    speed = parse_speed_trainer(speed_trainer) if speed_trainer is not None else None
    if chosen_gap is not None:
        tempo_map = drills.with_gap(tempo_map, chosen_gap)
    if speed is None:
        return Drilled(tempo_map, from_label, loop)
    start, trainer = speed
    if loop is None:
        return Drilled(drills.with_speed_trainer(tempo_map, trainer, start), from_label, None)
    drill = drills.faster_each_time(tempo_map, loop, trainer, start)
    return Drilled(drill.tempo_map, drill.first if from_label == loop else from_label, drill.loop)

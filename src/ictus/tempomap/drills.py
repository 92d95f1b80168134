"""A whole map made into a drill: the trainers of ``ictus play`` and ``ictus render``.

The command line's ``--gap``, ``--speed-trainer`` and ``--speed-trainer`` with
``--loop`` are maps made from the user's map here, so every output plays them from the
same grid (and a test can compare them with a map written by hand):

- :func:`with_gap` gives every section the same gap click;
- :func:`with_speed_trainer` gives every section a speed trainer (from its own tempo,
  or from a given start tempo, every section's tempos scaled to it);
- :func:`faster_each_time` writes out the repetitions of a looped section, each one
  ``step`` faster, up to the end tempo: the last one is the loop that goes on.

>>> from ictus.tempomap.model import Section, Tempo, TempoMap
>>> from ictus.tempomap.trainers import SpeedTrainer
>>> song = TempoMap((Section(2, Tempo(100), label="verse"), Section(1, Tempo(90))))
>>> drill = faster_each_time(song, "verse", SpeedTrainer(Fraction(10), 1, Fraction(125)))
>>> [(s.label, s.tempo.bpm) for s in drill.tempo_map.sections]
[('verse', Fraction(100, 1)), ('verse.2', Fraction(110, 1)), ('verse.3', Fraction(120, 1)), ('verse.4', Fraction(125, 1)), (None, Fraction(90, 1))]
>>> drill.first, drill.loop
('verse', 'verse.4')
"""  # noqa: E501

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import NamedTuple

from ictus.errors import ParameterError
from ictus.tempomap.model import Section, Tempo, TempoMap
from ictus.tempomap.trainers import Gap, SpeedTrainer

#: Most repetitions :func:`faster_each_time` writes out before the end tempo.
MAX_REPETITIONS = 1000


def with_gap(tempo_map: TempoMap, gap: Gap) -> TempoMap:
    """Every section with ``gap`` (its own gap replaced); the pattern starts again at each
    section, so a section always begins the way the gap says.

    >>> from ictus.tempomap.model import Section, Tempo, TempoMap
    >>> from ictus.tempomap.trainers import GapCycle
    >>> m = with_gap(TempoMap((Section(4, Tempo(120)), Section(3, Tempo(90)))), GapCycle(1, 1))
    >>> [s.gap_bars() for s in m.sections]
    [(1, 3), (1,)]
    """
    return replace(tempo_map, sections=tuple(replace(s, gap=gap) for s in tempo_map.sections))


def scaled_to(section: Section, start: Fraction) -> Section:
    """``section`` with every tempo scaled so that it starts at ``start`` (in its own unit).

    A ramp, steps or a per-beat list keep their shape; a frame click becomes plain BPM.

    >>> s = scaled_to(Section(2, Tempo(100), tempo_end=Tempo(120)), Fraction(50))
    >>> s.tempo.bpm, s.tempo_end.bpm
    (Fraction(50, 1), Fraction(60, 1))
    """
    factor = start / section.tempo.bpm
    if factor == 1:
        return section
    end = None if section.tempo_end is None else section.tempo_end.scaled(factor)
    tempi = None if section.tempi is None else tuple(t * factor for t in section.tempi)
    steps = None
    if section.steps is not None and section.trainer is None:
        steps = tuple((q, t * factor) for q, t in section.steps)
    return replace(
        section, tempo=Tempo(start, section.tempo.unit), tempo_end=end, tempi=tempi, steps=steps
    )


def with_speed_trainer(
    tempo_map: TempoMap, trainer: SpeedTrainer, start: Fraction | None = None
) -> TempoMap:
    """Every section with the speed ``trainer``, from ``start`` (None: its own tempo).

    A section must be at one tempo (no ramp, steps or per-beat list) to take a trainer.

    >>> from ictus.tempomap.model import Section, Tempo, TempoMap
    >>> m = with_speed_trainer(TempoMap((Section(4, Tempo(120)),)),
    ...                        SpeedTrainer(Fraction(5), 2, Fraction(200)), Fraction(80))
    >>> m.sections[0].tempo.bpm, m.sections[0].steps
    (Fraction(80, 1), ((Fraction(8, 1), Fraction(85, 1)),))
    """
    sections = []
    for i, section in enumerate(tempo_map.sections):
        if section.is_ramp or section.tempi is not None or (
            section.steps is not None and section.trainer is None
        ):
            raise ParameterError(
                f"section {section.label or i + 1} changes tempo by itself (a ramp or steps): "
                "a speed trainer needs sections at one tempo (or --loop one section)"
            )
        base = replace(section, trainer=None, steps=None, tempo_end=None)
        if start is not None:
            base = scaled_to(base, start)
        sections.append(replace(base, trainer=trainer))
    return replace(tempo_map, sections=tuple(sections))


class Drill(NamedTuple):
    """A map with a looped section written out faster each time (:func:`faster_each_time`)."""

    tempo_map: TempoMap
    first: str  #: label of the first repetition: where to start
    loop: str  #: label of the last repetition, at the end tempo: the loop that goes on
    tempos: tuple[Fraction, ...]  #: start tempo of each repetition, the loop's last


def faster_each_time(
    tempo_map: TempoMap, label: str, trainer: SpeedTrainer, start: Fraction | None = None
) -> Drill:
    """The section ``label`` played again and again, ``trainer.step`` faster every
    ``trainer.every`` repetitions, from ``start`` (None: its own tempo) up to
    ``trainer.end``.

    Repetition ``k`` (from 0) plays at ``start + (k // every) * step``, capped at the end;
    every tempo of the section is scaled with it (:func:`scaled_to`). The repetitions
    are written out as sections labelled ``label``, ``label.2``, ... and the last, at the
    end tempo, is meant to be looped (:attr:`Drill.loop`).
    """
    index = tempo_map.section_index(label)
    section = tempo_map.sections[index]
    first = section.tempo.bpm if start is None else start
    trainer.check_start(first)
    steps = trainer.steps_to_end(first)
    count = steps * trainer.every + 1
    if count > MAX_REPETITIONS:
        raise ParameterError(
            f"the speed trainer takes {count} repetitions to reach {trainer.end}; "
            f"at most {MAX_REPETITIONS}: take bigger steps"
        )
    taken = set(tempo_map.labels())
    reps, tempos = [], []
    for k in range(count):
        tempo = trainer.tempo_of_step(first, k // trainer.every)
        name = label if k == 0 else _free_label(f"{label}.{k + 1}", taken)
        reps.append(replace(scaled_to(section, tempo), label=name))
        tempos.append(tempo)
    sections = (*tempo_map.sections[:index], *reps, *tempo_map.sections[index + 1 :])
    drill = replace(tempo_map, sections=sections)
    last = reps[-1].label
    assert last is not None
    return Drill(drill, label, last, tuple(tempos))


def _free_label(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "x"
    taken.add(name)
    return name

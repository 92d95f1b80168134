"""A map in klick's own syntax, and what klick cannot say: refused by name and line, or
dropped one warning at a time (``--lossy``).

klick's tempo maps have bars, a meter, a tempo (or a ramp linear in beats, or a tempo
per beat), an accent pattern and a volume. What else a section uses is a *loss*, named
in the musician's words with the ``.click`` spelling:

==================  ======================================================
feature             with ``lossy=True``
==================  ======================================================
``pattern=``, list  with a grouping or beat unit: dropped (klick's beats differ)
``(2+2+3)``         the grouping is dropped: klick clicks every pulse
``q.=``, ``e=``     the tempo is written in quarter notes per minute
``sub=``            dropped: klick has no subdivisions
``sub-vol=``        dropped
``ramp=time``       written as klick's ramp (linear in beats): its timing changes
``mute``            written as volume 0
``cue=``            dropped
``steps=``          dropped: the section keeps its first tempo
a label             letters outside ``A-Z a-z 0-9 _ -`` become ``_``
``q=400/3``         the tempo is rounded to 3 decimals
==================  ======================================================

>>> from ictus.formats.clickfile import parse_click
>>> text = "a: 2 4/4 120\\nb: 1 4/4 120 sub=2 cue=\\"Go\\"\\n"
>>> from ictus.errors import ParameterError
>>> try:
...     format_klick(parse_click(text), source="song.click", lines=section_lines(text))
... except ParameterError as err:
...     print(str(err).replace(": it uses ", ":\\n").replace("; ", ";\\n"))
song.click:2: klick's format cannot hold section 2 (b):
cue="Go", sub=2 (klick has no subdivisions);
--lossy drops them with a warning each
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     print(format_klick(parse_click(text), lossy=True), end="")
a: 2 4/4 120
b: 1 4/4 120
>>> [str(w.message) for w in caught]
['section 2 (b): dropped cue="Go"', 'section 2 (b): dropped sub=2 (klick has no subdivisions)']
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import NamedTuple

from ictus.errors import IctusWarning, ParameterError
from ictus.patterns import lazy
from ictus.tempomap.model import Meter, Section, Tempo, TempoMap

_KLICK_LABEL_RE = lazy(r"^[A-Za-z0-9_-]+$")


class KlickWarning(IctusWarning):
    """Something a klick export dropped (``--lossy``); the message names it and where."""


class Loss(NamedTuple):
    """One thing klick cannot say: its ``.click`` spelling, why, and the section without it."""

    feature: str
    why: str
    section: Section


def format_klick(
    tempo_map: TempoMap,
    *,
    lossy: bool = False,
    source: str | None = None,
    lines: Sequence[int] | None = None,
) -> str:
    """Write ``tempo_map`` in klick's syntax.

    Title, count-in and scale are left out: klick takes those on its command line.

    Parameters
    ----------
    tempo_map : TempoMap
    lossy : bool
        Drop what klick cannot say (one :class:`KlickWarning` per drop) instead of
        refusing the map.
    source, lines : optional
        The file the map came from and the line of each section in it
        (:func:`section_lines`), to name ``file:line`` in messages.

    Raises
    ------
    ParameterError
        Without ``lossy``: the first section klick cannot hold, by line (or number and
        label) and every feature of it that klick lacks.
    """
    from ictus.formats.clickfile import _format_float, _format_tempo

    out = []
    for i, section in enumerate(tempo_map.sections):
        where = _where(i, section, source, lines)
        losses = list(_losses(section))
        if losses and not lossy:
            named = ", ".join(f"{loss.feature}{_because(loss.why)}" for loss in losses)
            raise ParameterError(
                f"{where}klick's format cannot hold {_name(i, section)}: it uses {named}; "
                "--lossy drops them with a warning each"
            )
        for loss in losses:
            warnings.warn(
                f"{where}{_name(i, section)}: dropped {loss.feature}{_because(loss.why)}",
                KlickWarning,
                stacklevel=2,
            )
            section = loss.section
        line = f"{section.label}: " if section.label else ""
        line += f"{section.bars} {section.meter} {_format_tempo(section, clicks=False)}"
        if section.pattern is not None:
            line += f" {section.pattern}"
        if section.volume != 1.0:
            line += f" {_format_float(section.volume)}"
        out.append(line)
    return "\n".join(out) + "\n"


def section_lines(text: str, filename: str = "<string>") -> list[int]:
    """The line number of each section of a ``.click``/``.klick`` text, in order.

    >>> section_lines("title: x\\n# c\\n\\na: 2 4/4 120\\n3 3/4 90\\n")
    [4, 5]
    """
    from ictus.formats.clickfile import _is_header, _lines, _split_label

    numbers = []
    for line, tokens in _lines(text, filename):
        label, rest = _split_label(line, tokens)
        if label is not None and _is_header(label, rest):
            continue
        numbers.append(line.number)
    return numbers


def _losses(s: Section) -> list[Loss]:
    """What of ``s`` klick cannot say; each loss carries ``s`` with it and every loss
    before it dropped, so the last one is what klick gets."""
    dropping = _Dropping(s)
    _drop_cues(dropping)
    _drop_other_beats(dropping)
    _drop_trainers(dropping)
    _drop_what_klick_lacks(dropping)
    _drop_inexact_tempo(dropping)
    return dropping.found


class _Dropping:
    """A section losing, one by one, what klick cannot say, and the losses so far."""

    def __init__(self, section: Section) -> None:
        self.section = section
        self.found: list[Loss] = []

    def drop(self, feature: str, why: str, **changes: object) -> None:
        self.section = replace(self.section, **changes)  # type: ignore[arg-type]
        self.found.append(Loss(feature, why, self.section))


def _drop_cues(d: _Dropping) -> None:
    for cue in d.section.cues:
        spot = "" if (cue.bar, cue.beat) == (1, 1) else f"@{cue.bar}.{cue.beat}"
        rest = tuple(c for c in d.section.cues if c is not cue)
        d.drop(f'cue{spot}="{cue.text}"', "", cues=rest)


def _drop_other_beats(d: _Dropping) -> None:
    """A grouping or a tempo unit: klick clicks other beats than the section counts."""
    from ictus.tempomap.model import unit_name

    if d.section.meter.grouping is not None or d.section.tempo.unit is not None:
        # klick will click other beats: what counts beats goes first
        if d.section.pattern is not None:
            d.drop(
                f"pattern={d.section.pattern}",
                "it counts the beats klick does not click",
                pattern=None,
            )
        if d.section.tempi is not None:
            d.drop("the per-beat tempos", "the section keeps its first tempo", tempi=None)
    meter = d.section.meter
    if meter.grouping is not None:
        grouping = "+".join(str(g) for g in meter.grouping)
        d.drop(f"({grouping})", "klick clicks every pulse", meter=Meter(meter.count, meter.unit))
    s = d.section
    if s.tempo.unit is not None:
        end = Tempo(s.tempo_end.quarter_bpm) if s.tempo_end is not None else None
        d.drop(
            f"{unit_name(s.tempo.unit)}=",
            "written in quarter notes per minute",
            tempo=Tempo(s.tempo.quarter_bpm),
            tempo_end=end,
        )


def _drop_trainers(d: _Dropping) -> None:
    """The practice trainers: klick has no gap click, speed trainer or layers."""
    from ictus.formats.clickfile import format_trainer

    s = d.section
    if s.trainer is not None:
        d.drop(
            f"trainer={format_trainer(s.trainer)}",
            "the section keeps its first tempo",
            trainer=None,
            steps=None,
        )
    if s.gap is not None:
        d.drop(f"gap={s.gap}", "every bar sounds", gap=None)
    if s.layers:
        d.drop("poly=" + ",".join(map(str, s.layers)), "klick has no layers", layers=())


def _drop_what_klick_lacks(d: _Dropping) -> None:
    """Subdivisions, ramp shapes, mutes, steps and labels klick has no word for."""
    from ictus.timebase import format_number

    if d.section.sub_pattern is not None:
        d.drop(f"sub-pattern={d.section.sub_pattern}", "", sub_pattern=None)
    if d.section.sub != 1:
        d.drop(f"sub={d.section.sub}", "klick has no subdivisions", sub=1)
    if d.section.sub_volume != 1.0:
        d.drop(f"sub-vol={d.section.sub_volume:g}", "", sub_volume=1.0)
    if d.section.tempo_end is not None and d.section.ramp != "beats":
        d.drop(f"ramp={d.section.ramp}", "written as klick's ramp, linear in beats", ramp="beats")
    if d.section.mute:
        d.drop("mute", "written as volume 0", mute=False, volume=0.0)
    if d.section.steps:
        text = ",".join(f"{format_number(q)}:{format_number(t)}" for q, t in d.section.steps)
        d.drop(f"steps={text}", "the section keeps its first tempo", steps=None)
    label = d.section.label
    if label is not None and not _KLICK_LABEL_RE.match(label):
        plain = re.sub(r"[^A-Za-z0-9_-]", "_", label)
        d.drop(f"the label {label!r}", f"written as {plain!r}", label=plain)


def _drop_inexact_tempo(d: _Dropping) -> None:
    """A tempo no decimal writes exactly, rounded to klick's 3 decimals."""
    from ictus.formats.clickfile import _format_tempo

    s = d.section
    if "/" not in _format_tempo(s, clicks=False):
        return

    def third(t: Fraction) -> Fraction:
        return Fraction(round(t * 1000), 1000)

    tempi = tuple(third(t) for t in s.tempi) if s.tempi is not None else None
    end = Tempo(third(s.tempo_end.bpm), s.tempo.unit) if s.tempo_end is not None else None
    d.drop(
        f"the tempo {_format_tempo(s, clicks=False)}",
        "rounded to 3 decimals",
        tempo=Tempo(third(s.tempo.bpm), s.tempo.unit),
        tempo_end=end,
        tempi=tempi,
    )


def _where(i: int, section: Section, source: str | None, lines: Sequence[int] | None) -> str:
    if source is not None and lines is not None and i < len(lines):
        return f"{source}:{lines[i]}: "
    return f"{source}: " if source is not None else ""


def _name(i: int, section: Section) -> str:
    return f"section {i + 1}" + (f" ({section.label})" if section.label else "")


def _because(why: str) -> str:
    return f" ({why})" if why else ""

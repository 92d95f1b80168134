"""What a MusicXML file itself says about each measure: how long it is, and its marks.

music21 builds the score (and plays repeats out), but it counts a direction's
``<offset>`` as time: a dynamic drawn an eighth to the right makes a 3/4 measure 7/8 long,
and a metronome mark drawn two beats to the right changes the tempo two beats late. In
MusicXML 4.0 an ``<offset>`` moves only the drawing unless it says ``sound="yes"``, and it
never changes a measure's length. So the lengths and the tempo marks are read here, from
the XML, walking each measure's notes, ``<backup>`` and ``<forward>`` like a player.

Everything is in quarter notes (exact Fractions) from the measure's start.

>>> from xml.etree import ElementTree
>>> part = ElementTree.fromstring('''<part id="P1"><measure number="1"><attributes>
... <divisions>2</divisions></attributes><note><duration>2</duration></note>
... <direction><direction-type><metronome><beat-unit>quarter</beat-unit>
... <per-minute>c. 72</per-minute></metronome></direction-type>
... <offset>4</offset><sound tempo="70"/></direction>
... <note><duration>4</duration></note></measure></part>''')
>>> [(m.length, m.real_notes) for m in part_measures(part)]
[(Fraction(3, 1), True)]
>>> d = part_measures(part)[0].directions[0]
>>> d.offset, d.printed, d.sound
(Fraction(1, 1), (Fraction(72, 1), Fraction(1, 4)), Fraction(70, 1))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

from ictus.limits import check_number_text

#: Note types as fractions of a whole note (``<beat-unit>``).
NOTE_TYPES = {
    "maxima": Fraction(8),
    "long": Fraction(4),
    "breve": Fraction(2),
    "whole": Fraction(1),
    "half": Fraction(1, 2),
    "quarter": Fraction(1, 4),
    "eighth": Fraction(1, 8),
    "16th": Fraction(1, 16),
    "32nd": Fraction(1, 32),
    "64th": Fraction(1, 64),
    "128th": Fraction(1, 128),
}

# "72", "c. 72", "ca 72", "ca.72", "~72", "circa 72", "72-80" (the first number counts)
# (a power of ten belongs to the number: "1e9" is not 1)
_PER_MINUTE_RE = re.compile(
    r"^\s*(?:(?:c|ca|circa)\.?\s*|~\s*)?(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
)


@dataclass(frozen=True)
class Direction:
    """One ``<direction>`` (or a ``<sound>`` standing alone in the measure).

    Attributes
    ----------
    offset : Fraction
        Where it takes effect, in quarters from the measure's start (a drawing-only
        ``<offset>`` left out).
    printed : (Fraction, Fraction) or None
        A metronome mark's number and beat unit (a fraction of a whole note).
    modulation : (Fraction, Fraction) or None
        A metric modulation (``<metronome>`` with two beat units): old unit = new unit.
    sound : Fraction or None
        ``<sound tempo>``: the playback tempo in quarter notes per minute.
    printed_text, sound_text : str or None
        The ``<per-minute>`` text and the ``tempo`` attribute as written (an error
        about the tempo quotes them, never a rounding of them).
    words : tuple of str
        The texts of ``<words>``.
    rehearsal : tuple of str
        The texts of ``<rehearsal>``.
    coda : bool
        A ``<coda>`` sign.
    """

    offset: Fraction
    printed: tuple[Fraction, Fraction] | None = None
    modulation: tuple[Fraction, Fraction] | None = None
    sound: Fraction | None = None
    words: tuple[str, ...] = ()
    rehearsal: tuple[str, ...] = ()
    coda: bool = False
    printed_text: str | None = None
    sound_text: str | None = None


@dataclass(frozen=True)
class Measure:
    """One ``<measure>`` of one part as the XML writes it.

    ``length`` is the furthest point a note reaches (``<forward>`` and ``<backup>`` place
    the notes; a ``<forward>`` after the last note, invisible space an editor pads a
    short final bar with, does not lengthen the bar); ``real_notes``
    is False when it holds nothing but whole-measure rests (``<rest measure="yes"/>``),
    which prove nothing about the measure's length. ``final`` marks a final barline
    (light-heavy) that closes no repeat.
    """

    number: str
    length: Fraction
    real_notes: bool
    directions: tuple[Direction, ...]
    final: bool = False


def part_measures(part: ElementTree.Element) -> list[Measure]:
    """Every ``<measure>`` of a ``<part>``, in the order written."""
    divisions = Fraction(1)
    measures = []
    for m in part.iter("measure"):
        for d in m.iter("divisions"):
            divisions = _fraction(d.text) or divisions
        measures.append(_measure(m, divisions))
    return measures


def per_minute(text: str | None) -> Fraction | None:
    """The number of a ``<per-minute>`` text; None when it has none.

    >>> per_minute("ca 72"), per_minute("c. 72"), per_minute("72.5"), per_minute("fast")
    (Fraction(72, 1), Fraction(72, 1), Fraction(145, 2), None)
    >>> per_minute("1e9"), per_minute("0.0001")
    (Fraction(1000000000, 1), Fraction(1, 10000))
    """
    match = _PER_MINUTE_RE.match(text or "")
    if match is None:
        return None
    check_number_text(match.group(1), "<per-minute>")
    value = Fraction(match.group(1))
    return value if value > 0 else None


def _measure(m: ElementTree.Element, divisions: Fraction) -> Measure:
    cursor = furthest = Fraction(0)
    real = False
    final = False
    directions: list[Direction] = []
    for el in m:
        if el.tag == "attributes":
            divisions = _divisions(el, divisions)
        elif el.tag == "note":
            if not _takes_time(el):
                continue
            real = real or _sounds(el)
            cursor += _duration(el, divisions)
            furthest = max(furthest, cursor)
        elif el.tag == "backup":
            cursor -= _duration(el, divisions)
        elif el.tag == "forward":
            cursor += _duration(el, divisions)
        elif el.tag == "direction":
            directions.append(_direction(el, cursor, divisions))
        elif el.tag == "sound" and el.get("tempo"):
            at = cursor + _offset(el, divisions, playback=True)
            tempo = el.get("tempo")
            directions.append(Direction(at, sound=_positive(tempo), sound_text=tempo))
        elif el.tag == "barline":
            final = final or _is_final_barline(el)
        cursor = max(cursor, Fraction(0))
    return Measure(m.get("number", ""), furthest, real, tuple(directions), final)


def _divisions(attributes: ElementTree.Element, divisions: Fraction) -> Fraction:
    """The divisions an ``<attributes>`` sets, else those in force."""
    d = attributes.find("divisions")
    if d is None:
        return divisions
    return _fraction(d.text) or divisions


def _takes_time(note: ElementTree.Element) -> bool:
    """Grace notes and the later notes of a chord have no time of their own."""
    return note.find("grace") is None and note.find("chord") is None


def _sounds(note: ElementTree.Element) -> bool:
    """A note or a rest short of a whole-measure rest: the bar is really played."""
    rest = note.find("rest")
    return rest is None or rest.get("measure") != "yes"


def _is_final_barline(barline: ElementTree.Element) -> bool:
    """A light-heavy barline that is not a repeat's end: the piece ends here."""
    style = barline.findtext("bar-style", "")
    return style == "light-heavy" and barline.find("repeat") is None


def _direction(el: ElementTree.Element, cursor: Fraction, divisions: Fraction) -> Direction:
    at = cursor + _offset(el, divisions, playback=False)
    printed = modulation = printed_text = sound_text = None
    words: list[str] = []
    rehearsal: list[str] = []
    coda = False
    for kind in el.iter("direction-type"):
        for item in kind:
            if item.tag == "metronome":
                units = _beat_units(item)
                text = item.findtext("per-minute")
                number = per_minute(text)
                if number is not None and units:
                    printed, printed_text = (number, units[0]), text
                elif len(units) == 2:
                    modulation = (units[0], units[1])
            elif item.tag == "words" and item.text and item.text.strip():
                words.append(item.text)
            elif item.tag == "rehearsal" and item.text and item.text.strip():
                rehearsal.append(item.text)
            elif item.tag == "coda":
                coda = True
    sound = None
    for s in el.iter("sound"):
        if s.get("tempo"):
            sound_text = s.get("tempo")
            sound = _positive(sound_text)
            at += _offset(s, divisions, playback=True)
    return Direction(
        at, printed, modulation, sound, tuple(words), tuple(rehearsal), coda,
        printed_text, sound_text,
    )


def _offset(el: ElementTree.Element, divisions: Fraction, *, playback: bool) -> Fraction:
    """A direct ``<offset>`` child that moves the sound: always inside ``<sound>``, and in
    a ``<direction>`` only with ``sound="yes"`` (else it only moves the drawing)."""
    off = el.find("offset")
    if off is None or not (playback or off.get("sound") == "yes"):
        return Fraction(0)
    return (_fraction(off.text, signed=True) or Fraction(0)) / divisions


def _beat_units(metronome: ElementTree.Element) -> list[Fraction]:
    """Each ``<beat-unit>`` with its dots, as a fraction of a whole note (a note with n
    dots lasts ``b * (2 - 1/2**n)``)."""
    found: list[list[Any]] = []  # [base, dots]
    for item in metronome:
        if item.tag == "beat-unit":
            base = NOTE_TYPES.get((item.text or "").strip())
            if base is None:
                return []
            found.append([base, 0])
        elif item.tag == "beat-unit-dot" and found:
            found[-1][1] += 1
    return [base * (2 - Fraction(1, 2**dots)) for base, dots in found]


def _duration(el: ElementTree.Element, divisions: Fraction) -> Fraction:
    value = _fraction(el.findtext("duration"))
    return (value or Fraction(0)) / divisions


def _positive(text: str | None) -> Fraction | None:
    value = _fraction(text)
    return value if value is not None and value > 0 else None


def _fraction(text: str | None, *, signed: bool = False) -> Fraction | None:
    """A decimal number from the XML, exactly; None when it is not one.

    A number beyond ictus's digits or power of ten (``1e999999999`` would take hours to
    make exact) is refused with a one-line error.
    """
    text = (text or "").strip()
    check_number_text(text, "a number in the score")
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    if value < 0 and not signed:
        return None
    return value

"""``ictus info``: a map's sections, timings and tempo range as a Rich table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ictus.cli.common import format_clock
from ictus.formats.typed_tempo import readable
from ictus.tempomap.grid import check_size, summarize
from ictus.tempomap.model import Section, TempoMap, unit_name


def tempo_text(section: Section) -> str:
    """How a musician would read the section's tempo: ``96``, ``96→104 (time)``, ``q.=92``."""
    unit = f"{unit_name(section.tempo.unit)}=" if section.tempo.unit is not None else ""
    if section.tempi is not None or section.steps is not None:
        tempos = section.quarter_tempos()
        kind = "per beat" if section.tempi is not None else "stepped"
        return f"{kind} {readable(min(tempos))}..{readable(max(tempos))}"
    text = unit + readable(section.tempo.bpm)
    if section.tempo_end is not None:
        text += f"→{readable(section.tempo_end.bpm)} ({section.ramp})"
    return text


def print_summary(tempo_map: TempoMap, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:  # a file or a pipe: never cut a row at 80 columns
            console = Console(width=1000)
    line = check_size(tempo_map)  # the map's timeline (made once, when it was read)
    summary = summarize(tempo_map, line)  # not build_grid: no click is built (constant memory)
    scale = float(tempo_map.scale)
    table = Table(title=tempo_map.title or "tempo map", title_justify="left")
    for col, justify in (
        ("#", "right"),
        ("section", "left"),
        ("bars", "right"),
        ("meter", "left"),
        ("tempo", "left"),
        ("start", "right"),
        ("length", "right"),
        ("notes", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    times = line.section_times()
    first = 1
    for i, (section, (start, length)) in enumerate(zip(tempo_map.sections, times, strict=True)):
        notes = []
        if section.pattern:
            notes.append(section.pattern)
        if section.sub != 1:
            notes.append(f"sub={section.sub}")
        if section.mute:
            notes.append("mute")
        if section.volume != 1.0:
            notes.append(f"vol={section.volume:g}")
        notes.extend(trainer_notes(section))
        notes.extend(f'"{c.text}"' for c in section.cues)
        last = first + section.bars - 1
        table.add_row(
            str(i + 1),
            section.label or "",
            f"{first}-{last}" if last > first else str(first),
            str(section.meter),
            tempo_text(section),
            format_clock(float(line.grid_time(start))),
            format_clock(float(length)),
            " ".join(notes),
        )
        first = last + 1
    console.print(table)
    tempos = [float(t) * scale for s in tempo_map.sections for t in s.quarter_tempos()]
    facts = Table.grid(padding=(0, 2))
    facts.add_row("duration", format_clock(summary.duration))
    if tempo_map.count_in:
        facts.add_row("count-in", format_clock(float(line.lead)))
    facts.add_row("bars", str(tempo_map.total_bars))
    facts.add_row("sections", str(len(tempo_map.sections)))
    facts.add_row(
        "tempo range", f"{readable(min(tempos))} - {readable(max(tempos))} BPM (quarter notes)"
    )
    facts.add_row("clicks", f"{summary.sounding} sounding, {summary.clicks} in all")
    if tempo_map.scale != 1:
        facts.add_row("scale", f"{scale:g}")
    console.print(facts)


def trainer_notes(section: Section) -> list[str]:
    """The practice trainers of a section, as the format writes them.

    >>> from ictus.formats import parse_click
    >>> trainer_notes(parse_click("8 4/4 80 trainer=+4/2..96 gap=3:1 poly=3").sections[0])
    ['trainer=+4/2..96', 'gap=3:1', 'poly=3']
    """
    from ictus.formats.clickfile import format_trainer

    notes = []
    if section.trainer is not None:
        notes.append(f"trainer={format_trainer(section.trainer)}")
    if section.gap is not None:
        seed = getattr(section.gap, "seed", 0)
        notes.append(f"gap={section.gap}" + (f" seed={seed}" if seed else ""))
    if section.layers:
        notes.append("poly=" + ",".join(map(str, section.layers)))
    return notes

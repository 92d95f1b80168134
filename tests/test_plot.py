"""``ictus plot`` at the level of matplotlib's artists: what is written, and where.

Every text the figure shows is measured by matplotlib's own renderer: no two may
overlap, none may leave the figure, and no section or cue label may sit on a line.
What must be there is written out from the map by hand: section names, the meters
where they change, tempos in their own unit with the quarter-note value beside them,
cues, mute bars, bar numbers and the unit of the tempo axis.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ictus.cli.plotting import stack_rows, tempo_figure
from ictus.formats import parse_click

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

ICTUS = str(Path(sys.executable).parent / "ictus")

#: Short sections close together (the old plot wrote "count-in" and "bridge" over bar
#: lines and each other), a 12/8 at a dotted-quarter tempo, cues a bar apart, a mute.
CROWDED = """\
title: Crowded
count-in: 1 bar
intro:   1 4/4 100
a:       1 2/4 100
verse:   8 4/4 100 X.x. cue="Verse" cue@2="Guitar" cue@3="Build" cue@4="Drums in"
pre:     4 4/4 100-120 ramp=time
chorus:  8 4/4 120 sub=2
bridge:  2 7/8 (2+2+3) e=312
ballad:  4 12/8 q.=70
break:   2 4/4 104 mute
outro:   4 4/4 104-72 vol=0.8 cue@4="Last bar"
"""


def drawn(fig: Any) -> Any:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def all_axes(fig: Any) -> list[Any]:
    return [*fig.axes, *(child for ax in fig.axes for child in ax.child_axes)]


def visible_texts(fig: Any) -> list[Text]:
    """Every text the figure draws: its own, the axes' texts, titles and axis labels,
    and the labels of ticks inside the view (matplotlib keeps others it does not draw)."""
    texts = list(fig.texts)
    for ax in all_axes(fig):
        texts += [*ax.texts, ax.title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = (hi - lo) * 1e-9
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if lo - span <= tick.get_loc() <= hi + span:
                    texts += [tick.label1, tick.label2]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def overlaps(a: Any, b: Any) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def check_layout(fig: Any) -> list[str]:
    """Every visible text: inside the figure, apart from every other, off every line."""
    renderer = drawn(fig)
    texts = visible_texts(fig)
    boxes = [t.get_window_extent(renderer) for t in texts]
    page = fig.bbox
    out = [
        f"{t.get_text()!r} leaves the figure"
        for t, b in zip(texts, boxes, strict=True)
        if b.x0 < page.x0 - 0.5 or b.x1 > page.x1 + 0.5 or b.y0 < page.y0 - 0.5
        or b.y1 > page.y1 + 0.5
    ]  # fmt: skip
    for (ta, a), (tb, b) in itertools.combinations(zip(texts, boxes, strict=True), 2):
        if overlaps(a, b):
            out.append(f"{ta.get_text()!r} overlaps {tb.get_text()!r}")
    lines = [
        line.get_window_extent(renderer)
        for ax in all_axes(fig)
        for line in ax.lines
        if line.get_linestyle() not in ("None", "")  # drawn lines, not marker-only points
    ]
    for t, b in zip(texts, boxes, strict=True):
        for line in lines:
            if overlaps(b, line):
                out.append(f"{t.get_text()!r} sits on a line")
    return out


def all_text(fig: Any) -> list[str]:
    drawn(fig)
    return [t.get_text() for t in visible_texts(fig)]


@pytest.fixture(scope="module")
def crowded() -> Any:
    return tempo_figure(parse_click(CROWDED))


def test_no_text_overlaps_another_or_a_line(crowded: Any) -> None:
    assert check_layout(crowded) == []


def test_the_tempo_axis_says_its_unit(crowded: Any) -> None:
    main = next(ax for ax in crowded.axes if ax.get_ylabel())
    assert "quarter" in main.get_ylabel() and "BPM" in main.get_ylabel()
    # the 12/8 section is drawn at 105 quarters a minute, and says so in its label
    texts = all_text(crowded)
    assert any("q.=70 (q=105)" in t for t in texts), texts
    assert any("e=312 (q=156)" in t for t in texts), texts
    lo, hi = main.get_ylim()
    assert lo < 72 and hi > 156


def test_sections_meters_cues_and_mute_are_marked(crowded: Any) -> None:
    texts = all_text(crowded)
    labels = [t for t in texts if "  " in t]  # section labels join their parts with 2 spaces
    starts = [t.split("  ")[0] for t in labels]
    for name in ("intro", "a", "verse", "pre", "chorus", "bridge", "ballad", "break", "outro"):
        assert name in starts, (name, labels)
    assert any(t.startswith("count-in") for t in texts)
    # meters where they change: intro 4/4, a 2/4, verse 4/4 again, 7/8, 12/8, 4/4 at break
    by_name = {t.split("  ")[0]: t for t in labels}
    meters = {"intro": "4/4", "a": "2/4", "verse": "4/4", "bridge": "7/8 (2+2+3)",
              "ballad": "12/8", "break": "4/4"}  # fmt: skip
    for name, meter in meters.items():
        assert f"  {meter}  " in by_name[name], by_name[name]
    for name in ("pre", "chorus", "outro"):  # same meter as before: not repeated
        assert "/" not in by_name[name].split("  ")[1], by_name[name]
    assert by_name["break"].endswith("mute")
    for cue in ("Verse", "Guitar", "Build", "Drums in", "Last bar"):
        assert cue in texts, cue
    # mute bars are hatched over the break's two bars
    main = next(ax for ax in crowded.axes if ax.get_ylabel())
    hatched = [p for p in main.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == 1


def test_bar_numbers_on_a_second_axis(crowded: Any) -> None:
    drawn(crowded)
    main = next(ax for ax in crowded.axes if ax.get_ylabel())
    (top,) = main.child_axes
    labels = [t.get_text() for t in top.get_xticklabels() if t.get_text()]
    numbers = [int(x) for x in labels]
    assert numbers[0] == 1 and numbers == sorted(numbers) and len(numbers) >= 5
    # bar numbers sit on the bars' downbeats (CROWDED's bar 3 starts after 4 + 4 + 2
    # quarters at 100 BPM: 6 s)
    ticks = dict(zip(numbers, top.get_xticks(), strict=True))
    if 3 in ticks:
        assert ticks[3] == pytest.approx(6.0)
    assert ticks[1] == pytest.approx(2.4)  # after one count-in bar of 4/4 at 100
    assert "bar" in all_text(crowded)


def test_stack_rows_never_lets_two_spans_in_one_row_touch() -> None:
    spans = [(0, 5), (1, 2), (2.5, 9), (6, 7), (7.5, 8), (20, 21)]
    rows = stack_rows(spans, gap=0.5)
    for (a, ra), (b, rb) in itertools.combinations(zip(spans, rows, strict=True), 2):
        if ra == rb:
            assert a[1] + 0.5 <= b[0] or b[1] + 0.5 <= a[0]


labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=14)


@st.composite
def crowded_maps(draw: st.DrawFn) -> str:
    n = draw(st.integers(2, 14))
    names = draw(st.lists(labels, min_size=n, max_size=n, unique=True))
    lines = ["title: " + draw(labels), "count-in: " + draw(st.sampled_from(["none", "1 bar"]))]
    for name in names:
        bars = draw(st.integers(1, 3))
        meter = draw(st.sampled_from(["4/4", "3/4", "7/8 (2+2+3)", "12/8", "5/4"]))
        tempo = draw(st.sampled_from(["120", "96-140", "q.=70", "e=300", "200"]))
        cue = draw(st.sampled_from(["", ' cue="' + draw(labels) + '"']))
        mute = draw(st.sampled_from(["", " mute"]))
        lines.append(f"{name}: {bars} {meter} {tempo}{cue}{mute}")
    return "\n".join(lines) + "\n"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowded_maps())
def test_any_crowded_map_lays_out_cleanly(text: str) -> None:
    fig = tempo_figure(parse_click(text))
    assert check_layout(fig) == []


def test_a_long_map_has_round_bar_numbers_and_no_grey_wash() -> None:
    fig = tempo_figure(parse_click("title: Long\nverse: 2000 4/4 120\nb: 2000 7/8 e=300\n"))
    assert check_layout(fig) == []
    main = next(ax for ax in fig.axes if ax.get_ylabel())
    (top,) = main.child_axes
    numbers = [int(t.get_text()) for t in top.get_xticklabels() if t.get_text()]
    assert numbers[0] == 1 and all(n % 100 == 0 for n in numbers[1:])
    assert len(main.collections[0].get_segments()) < 100  # bar lines only where numbered
    assert "h:mm:ss" in main.get_xlabel()


def test_ictus_plot_writes_png_svg_and_pdf(tmp_path: Path) -> None:
    song = tmp_path / "crowded.click"
    song.write_text(CROWDED)
    for ext, magic in (("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")):
        out = tmp_path / f"tempo.{ext}"
        proc = subprocess.run(
            [ICTUS, "plot", str(song), "-o", str(out)], capture_output=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes().startswith(magic)


def test_the_checker_sees_overlaps_and_lines(crowded: Any) -> None:
    fig = tempo_figure(parse_click(CROWDED))
    fig.text(0.5, 0.02, "first")
    fig.text(0.5, 0.02, "second")
    main = next(ax for ax in fig.axes if ax.get_ylabel())
    main.text(2.4, 100, "on the bar line of bar 1")
    problems = check_layout(fig)
    assert "'first' overlaps 'second'" in problems
    assert "'on the bar line of bar 1' sits on a line" in problems

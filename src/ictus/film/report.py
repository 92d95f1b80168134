"""Reports of a tempo fit for the music editor: the ranked candidates and how the hits
land, as an aligned text table, CSV or JSON.

The command line only picks the form; what is reported, and how each number is
rounded, is decided here, beside the fitting itself.

>>> from fractions import Fraction
>>> from ictus.film.fit import fit_tempo
>>> from ictus.film.hits import Hit
>>> from ictus.timebase import FPS_24
>>> hits = [Hit(Fraction(n, 2), f"h{n}") for n in (4, 8, 12)]  # every 2 s from 2 s
>>> best = fit_tempo(hits, rate=FPS_24, lo=110, hi=130, limit=1)
>>> print(candidates_table(best, start_frame=0))  # doctest: +NORMALIZE_WHITESPACE
tempo candidates (errors in frames: + music early, - late)
#      BPM  click  hits  near  miss   rms  worst     downbeat
1  120.000   12-0     3     0     0  0.00   0.00  00:00:00:00
<BLANKLINE>
hits at 120.000 BPM (12-0)
hit  time s  bar|beat  error  status
h4    2.000       2|1  +0.00     hit
h8    4.000       3|1  +0.00     hit
h12   6.000       4|1  +0.00     hit
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from ictus.film.fit import Candidate
from ictus.film.fitmap import MapFit

CSV_HEADER = (
    "rank",
    "bpm",
    "click",
    "hits",
    "near",
    "miss",
    "rms_frames",
    "worst_frames",
    "downbeat_timecode",
    "errors_frames",
)


def text_table(
    title: str, header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 0
) -> str:
    """Columns aligned for a terminal or a text file; the first ``left`` columns to the left.

    >>> print(text_table("t", ("a", "bb"), [("1", "2"), ("333", "4")], left=1))
    t
    a    bb
    1     2
    333   4
    """
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([title, line(header), *(line(r) for r in rows)])


def candidates_json(candidates: Sequence[Candidate], start_frame: int) -> str:
    """The ranked candidates as a JSON list (``rank`` plus :meth:`Candidate.to_dict`)."""
    out = [{"rank": rank, **c.to_dict(start_frame)} for rank, c in enumerate(candidates, start=1)]
    return json.dumps(out, indent=1)


def candidates_csv(candidates: Sequence[Candidate], start_frame: int) -> str:
    """One CSV row per candidate (:data:`CSV_HEADER`), errors joined by spaces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for rank, c in enumerate(candidates, start=1):
        d = c.to_dict(start_frame)
        writer.writerow(
            (
                rank,
                f"{d['bpm']:.6f}",
                d["click"],
                d["hits"],
                d["near"],
                d["miss"],
                f"{d['rms_frames']:.3f}",
                f"{d['worst_frames']:.3f}",
                d["downbeat_timecode"],
                " ".join(f"{e:+.3f}" for e in d["errors_frames"]),
            )
        )
    return buffer.getvalue()


def candidates_table(candidates: Sequence[Candidate], start_frame: int) -> str:
    """The ranked candidates, then where every hit lands with the best one."""
    rows = []
    for rank, c in enumerate(candidates, start=1):
        d = c.to_dict(start_frame)
        rows.append(
            (
                str(rank),
                f"{d['bpm']:.3f}",
                d["click"],
                str(d["hits"]),
                str(d["near"]),
                str(d["miss"]),
                f"{d['rms_frames']:.2f}",
                f"{d['worst_frames']:.2f}",
                d["downbeat_timecode"],
            )
        )
    ranked = text_table(
        "tempo candidates (errors in frames: + music early, - late)",
        ("#", "BPM", "click", "hits", "near", "miss", "rms", "worst", "downbeat"),
        rows,
    )
    best = candidates[0]
    detail = text_table(
        f"hits at {float(best.bpm):.3f} BPM ({best.click})",
        ("hit", "time s", "bar|beat", "error", "status"),
        [
            (
                r.hit.label or "-",
                f"{float(r.hit.time):.3f}",
                r.bar_beat,
                f"{float(r.error_frames):+.2f}",
                r.status,
            )
            for r in best.results
        ],
        left=1,
    )
    return f"{ranked}\n\n{detail}"


def fitted_map_data(result: MapFit, click_text: str) -> dict[str, Any]:
    """A fitted map as plain data for JSON; ``click_text`` is the map in ``.click`` form."""
    return {
        "changes": result.changes,
        "segments": [
            {
                "start_s": float(s.start),
                "end_s": float(s.end),
                "beats": s.beats,
                "bpm_start": float(s.bpm_start),
                "bpm_end": float(s.bpm_end),
                "ramp": s.ramp,
                "hit": s.hit,
            }
            for s in result.segments
        ],
        "errors_frames": list(result.errors_frames),
        "status": list(result.statuses),
        "labels": [h.label for h in result.hits],
        "map": click_text,
    }


def fitted_map_table(result: MapFit) -> str:
    """The fitted map's segments, then how every hit lands in its clicks."""
    segments = text_table(
        f"fitted map: {result.changes} change(s)",
        ("from s", "to s", "beats", "BPM", "to BPM", "shape", "lands on"),
        [
            (
                f"{float(s.start):.3f}",
                f"{float(s.end):.3f}",
                str(s.beats),
                f"{float(s.bpm_start):.3f}",
                f"{float(s.bpm_end):.3f}",
                s.ramp or "constant",
                result.hits[s.hit].label or f"hit {s.hit + 1}",
            )
            for s in result.segments
        ],
    )
    hits = text_table(
        "hits in the fitted map's clicks",
        ("hit", "time s", "error", "status"),
        [
            (h.label or "-", f"{float(h.time):.3f}", f"{e:+.2f}", st)
            for h, e, st in zip(result.hits, result.errors_frames, result.statuses, strict=True)
        ],
        left=1,
    )
    return f"{segments}\n\n{hits}"

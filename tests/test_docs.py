"""Every document the code and the README point at is in the repository.

A reference a user cannot follow is a broken promise: docstrings cite
``docs/REFERENCE.md section N``, the README links to ``docs/ARCHITECTURE.md``. Each
``docs/...`` path named in ``src/``, ``README.md`` or ``docs/`` must exist, each cited
section number must be a numbered heading of that file, each relative Markdown link
must resolve, and nothing may point outside the repository at ``../shared``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: ``docs/`` followed by a path; ends on a letter or digit so a full stop after it
#: (end of a sentence) is not taken as part of the name.
DOCS_PATH = re.compile(r"(?<![\w/.])docs/[\w./-]*\w")
#: ``docs/REFERENCE.md section 5`` (also ``sections 4-6``)
SECTION = re.compile(r"(?<![\w/.])(docs/[\w./-]*\.md),?\s+sections?\s+(\d+)(?:\s*-\s*(\d+))?")
#: ``[text](target)`` with a target that is not a URL or a bare anchor
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def project_files() -> list[Path]:
    """The files whose references must resolve: src/, the README and docs/."""
    files = [ROOT / "README.md", *sorted((ROOT / "src").rglob("*.py"))]
    files += sorted((ROOT / "docs").rglob("*.md"))
    return [f for f in files if f.is_file()]


def tracked_files() -> list[Path]:
    """Every file git knows in the repository (or, outside git, every file)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts]


def headings(doc: Path) -> set[int]:
    """Numbers of the ``## N. Title`` headings of a Markdown file."""
    return {int(m) for m in re.findall(r"^#+\s+(\d+)\.\s", doc.read_text(), flags=re.M)}


def test_the_project_documents_exist() -> None:
    assert (ROOT / "docs" / "REFERENCE.md").is_file()
    assert (ROOT / "docs" / "ARCHITECTURE.md").is_file()
    assert len(project_files()) > 20  # the scan below really reads the sources


def test_every_docs_path_named_in_src_readme_and_docs_exists() -> None:
    missing = []
    for f in project_files():
        for number, line in enumerate(f.read_text().splitlines(), 1):
            for path in DOCS_PATH.findall(line):
                if not (ROOT / path).exists():
                    missing.append(f"{f.relative_to(ROOT)}:{number}: {path}")
    assert not missing, "\n".join(missing)


def test_every_cited_section_is_a_heading_of_its_document() -> None:
    wrong = []
    for f in project_files():
        text = " ".join(f.read_text().split())  # a citation may wrap onto the next line
        for path, first, last in SECTION.findall(text):
            doc = ROOT / path
            if not doc.is_file():
                continue  # reported by the test above
            have = headings(doc)
            for section in range(int(first), int(last or first) + 1):
                if section not in have:
                    wrong.append(f"{f.relative_to(ROOT)}: {path} section {section}")
    assert not wrong, "\n".join(wrong)


def test_relative_markdown_links_resolve() -> None:
    broken = []
    for f in project_files():
        if f.suffix != ".md":
            continue
        for target in LINK.findall(f.read_text()):
            path = target.split("#", 1)[0]
            if path and not (f.parent / path).exists():
                broken.append(f"{f.relative_to(ROOT)}: {target}")
    assert not broken, "\n".join(broken)


def anchors(doc: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings (code blocks left out): lower
    case, punctuation but ``-`` and ``_`` dropped, spaces to ``-``, repeats ``-1``..."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in doc.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        heading = None if in_code else re.match(r"^#+\s+(.*)", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(f"{slug}-{n}" if n else slug)
    return found


def test_markdown_anchors_name_headings() -> None:
    broken = []
    for f in project_files():
        if f.suffix != ".md":
            continue
        for target in re.findall(r"\]\((?!https?:|mailto:)([^)\s]*#[^)\s]+)\)", f.read_text()):
            path, anchor = target.split("#", 1)
            doc = (f.parent / path) if path else f
            if doc.is_file() and doc.suffix == ".md" and anchor not in anchors(doc):
                broken.append(f"{f.relative_to(ROOT)}: {target}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("needle", ["../shared", "shared/docs"])
def test_nothing_points_outside_the_repository(needle: str) -> None:
    here = Path(__file__).resolve()
    found = [
        str(f.relative_to(ROOT))
        for f in tracked_files()
        if f.resolve() != here and needle in f.read_text(errors="replace")
    ]
    assert not found, f"{needle!r} in: {', '.join(found)}"


def test_the_patterns_find_what_they_should() -> None:
    line = "(docs/REFERENCE.md section 2). See docs/ARCHITECTURE.md. not mydocs/x.md"
    assert DOCS_PATH.findall(line) == ["docs/REFERENCE.md", "docs/ARCHITECTURE.md"]
    assert SECTION.findall("docs/REFERENCE.md sections 4-6") == [("docs/REFERENCE.md", "4", "6")]
    assert LINK.findall("[a](docs/A.md) [b](https://x.org) [c](#exact-time)") == ["docs/A.md"]

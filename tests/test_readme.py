"""Every command in the README runs as written, from a copy of a fresh clone.

The shell commands are taken from the README's ``sh`` code blocks (continuation lines
joined, comments dropped) and run in order with ``sh -c`` in a temporary copy of the
repository's files, with the virtual environment's ``ictus`` first on PATH; each
``python`` code block runs whole, in its place in that order, with the venv's Python.
Each must exit 0 without a traceback. Only the few lines in :data:`SKIPPED` do not run, each for
the reason given there. The files the README shows inline (the example map, the hit
list) must be the files that ship.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

#: Lines that do not run here, by how they start, and why. Keep this short.
SKIPPED = {
    "make ": "set-up and the whole suite: `make test` is what runs this test",
    ". .venv/bin/activate": "the test puts the venv's ictus on PATH itself",
    "ictus play ": "needs a sound device or a JACK server (test_engine_cli.py and "
    "test_engine_jack.py play through the null backend and a private JACK server)",
    "ictus serve ": "serves until stopped, and plays on a sound device or JACK server "
    "(test_web.py drives it with a browser on the null backend)",
}


class Command(NamedTuple):
    line: int  # README line where the command starts
    text: str
    python: bool = False  # a ``python`` code block, run whole with the venv's Python


def shell_blocks(
    text: str, languages: tuple[str, ...] = ("sh", "bash", "shell")
) -> list[tuple[int, list[str]]]:
    """The ``sh`` code blocks (or those of ``languages``): (line of the first content
    line, lines)."""
    blocks: list[tuple[int, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```\s*(\w*)\s*$", lines[i])
        if fence is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        if fence.group(1) in languages:
            blocks.append((i + 2, lines[i + 1 : end]))
        i = end + 1
    return blocks


def strip_comment(line: str) -> str:
    """Drop a trailing ``# comment`` (a ``#`` after whitespace, outside quotes)."""
    quote = ""
    for k, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (k == 0 or line[k - 1] in " \t"):
            return line[:k].rstrip()
    return line.rstrip()


def commands(text: str) -> list[Command]:
    """Every shell command of the README, in order, continuation lines joined."""
    found = []
    for first, lines in shell_blocks(text):
        pending: list[str] = []
        start = first
        for offset, raw in enumerate(lines):
            line = strip_comment(raw)
            if not pending:
                start = first + offset
                if not line.strip():
                    continue  # a blank or a comment-only line
            if line.endswith("\\"):
                pending.append(line[:-1].rstrip())
                continue
            pending.append(line.strip() if pending else line)
            found.append(Command(start, " ".join(p for p in pending if p)))
            pending = []
    return found


def python_blocks(text: str) -> list[Command]:
    """Every ``python`` code block of the README, as one command each."""
    return [
        Command(first, "\n".join(lines) + "\n", python=True)
        for first, lines in shell_blocks(text, ("python",))
    ]


def skip_reason(command: str) -> str | None:
    return next((why for start, why in SKIPPED.items() if command.startswith(start)), None)


def is_ictus(command: str) -> bool:
    """An ictus command, alone or at the end of a pipe (``echo ... | ictus render -``),
    or one of the repository's own scripts that make example files (``python tools/...``)."""
    if command.startswith("python tools/"):
        return True
    return any(part.strip().startswith("ictus ") for part in command.split("|"))


ALL = sorted(commands(README.read_text()) + python_blocks(README.read_text()), key=lambda c: c.line)
RUN = [c for c in ALL if skip_reason(c.text) is None]


def repository_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [f for f in out.splitlines() if (ROOT / f).is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [str(p.relative_to(ROOT)) for p in (ROOT / "examples").rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[int, subprocess.CompletedProcess]:
    """Run every runnable command once, in README order (later ones read what earlier
    ones wrote, as a reader following the README does), in a copy of the repository."""
    clone = tmp_path_factory.mktemp("clone")
    for name in repository_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, clone / name)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # no JACK server is started or reached from here (`ictus devices` asks)
        "JACK_NO_START_SERVER": "1",
        "JACK_DEFAULT_SERVER": "ictus-readme-none",
        "COLUMNS": "100",
    }
    done = {}
    for command in RUN:
        done[command.line] = subprocess.run(
            [sys.executable, "-c", command.text] if command.python else ["sh", "-c", command.text],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    return done


def test_the_readme_has_commands_and_few_skips() -> None:
    assert len(RUN) >= 25, [c.text for c in RUN]
    skipped = [c for c in ALL if skip_reason(c.text)]
    assert len(skipped) <= 10, [c.text for c in skipped]
    # every line either runs as an ictus command or is skipped for a stated reason
    wrong = [c.text for c in RUN if not (c.python or is_ictus(c.text))]
    assert not wrong, wrong


@pytest.mark.parametrize("command", RUN, ids=[f"README:{c.line}" for c in RUN])
def test_readme_command_runs(command: Command, results: dict) -> None:
    proc = results[command.line]
    assert proc.returncode == 0, f"{command.text}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, f"{command.text}\n{proc.stderr}"


def test_every_examples_file_the_readme_names_ships() -> None:
    named = set(re.findall(r"examples/[\w./-]*\w", README.read_text()))
    assert named, "the README names no example files"
    # a file, or a folder of shipped files (``examples/show/``)
    assert all((ROOT / n).exists() for n in named), sorted(
        n for n in named if not (ROOT / n).exists()
    )


def test_the_readme_shows_the_shipped_files() -> None:
    text = README.read_text()
    blocks = re.findall(r"^```\w*\n(.*?)^```", text, flags=re.M | re.S)
    example = "".join(
        line + "\n"
        for line in (ROOT / "examples" / "example.click").read_text().splitlines()
        if not line.startswith("#")
    )
    assert example in blocks
    assert (ROOT / "examples" / "hits.csv").read_text() in blocks


def test_the_parser_joins_and_strips() -> None:
    text = '```sh\nictus a x \\\n    --b  # note\n  # only\necho "#1" | ictus c  # c\n```\n'
    assert commands(text) == [Command(2, "ictus a x --b"), Command(5, 'echo "#1" | ictus c')]

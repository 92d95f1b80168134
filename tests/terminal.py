"""``ictus`` on a pseudo-terminal, for the tests of the live displays: start a command
with a 110x40 screen, read what it draws (escape codes removed), press keys."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping, Sequence


def as_at_a_terminal() -> None:
    """``preexec_fn`` for a command a test will stop with a signal: the signals a user's
    terminal leaves at their defaults. A background job (``make test &``), ``nohup`` or
    a CI runner can hand SIGINT, SIGQUIT or SIGHUP down ignored, and a process keeps an
    ignored signal ignored (ictus does too, on purpose): the test would wait for
    nothing."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


class Terminal:
    """A command running on a pty of its own; use as a context manager (kills it after)."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 110, 0, 0))
        screen = {"TERM": "xterm-256color", "COLUMNS": "110", "LINES": "40"}
        self.proc = subprocess.Popen(
            list(args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, **screen},
            start_new_session=True,
        )
        os.close(slave)
        self.screen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.screen.append(ANSI.sub("", chunk.decode("utf-8", "replace")))

    def text(self, last: int | None = None) -> str:
        """What was drawn: everything, or the ``last`` chunks (the screen now)."""
        return "".join(self.screen if last is None else self.screen[-last:])

    def shows(self, pattern: str, last: int = 40) -> bool:
        """Whether the regular expression ``pattern`` is on the screen now."""
        return re.search(pattern, self.text(last)) is not None

    def wait_for(self, pattern: str, timeout: float, last: int = 40) -> None:
        deadline = time.monotonic() + timeout
        while not self.shows(pattern, last):
            assert time.monotonic() < deadline, f"the screen never showed {pattern!r}"
            time.sleep(0.01)

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

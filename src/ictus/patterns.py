"""Regular expressions compiled when first used, not when their module is imported.

Compiling a pattern costs 0.05 to 0.5 ms; a reader holds a dozen, most of which a given
file never needs (``ictus render song.click`` uses none of the klick ones). A module
declares its patterns with :func:`lazy` as it would with :func:`re.compile`.
"""

from __future__ import annotations

import re
from typing import Any, cast


class _Lazy:
    """Stands for ``re.compile(pattern, flags)`` and compiles it on first use."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(*self._args)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._args[0]!r})"


def lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, done on the first match.

    >>> bars = lazy(r"(\\d+) bars?")
    >>> bars.fullmatch("4 bars").group(1), bars.pattern
    ('4', '(\\\\d+) bars?')
    """
    return cast("re.Pattern[str]", _Lazy(pattern, flags))

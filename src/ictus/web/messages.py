"""What a page may send, checked before anything reaches the engine.

A message is one JSON object of at most :data:`MAX_MESSAGE` bytes with a ``type``:

- ``ping`` ``{"type": "ping", "id": N}``: answered with the engine's time (clock sync);
- ``do`` ``{"type": "do", "action": "locate", "arg": "chorus"}``: a remote control
  action (:class:`~ictus.web.remote.Action`), ``arg`` where the action needs one;
  a ``tap`` carries ``at``, the tap's time on the engine's clock in seconds;
- ``report`` ``{"type": "report", "flashes": [[engine_seconds, bar, beat], ...]}``:
  the flashes a page has scheduled (kept for tests and diagnosis).

Anything else raises :class:`Rejected` with a short reason.

>>> parse('{"type": "do", "action": "locate", "arg": "chorus"}')
Do(action=<Action.LOCATE: 'locate'>, arg='chorus', at=None)
>>> parse('{"type": "ping", "id": 3}')
Ping(id=3)
>>> try:
...     parse('{"type": "do", "action": "explode"}')
... except Rejected as err:
...     print(err)
unknown action 'explode'
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ictus.web.remote import ARGUMENTS, Action

#: Largest message a page may send (bytes); reports of many flashes fit easily.
MAX_MESSAGE = 8192
#: Most flashes one report may hold.
MAX_FLASHES = 64


class Rejected(ValueError):
    """A message that is not one of ours; playback is not touched."""


@dataclass(frozen=True)
class Ping:
    id: int


@dataclass(frozen=True)
class Do:
    action: Action
    arg: str | int | float | None = None
    at: float | None = None


@dataclass(frozen=True)
class Report:
    flashes: tuple[tuple[float, int, int], ...]


Message = Ping | Do | Report


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Rejected(f"{what} must be a finite number")
    return float(value)


def parse(text: str | bytes) -> Message:
    """Check and decode one message from a page."""
    data = _json_object(text)
    kind = data.get("type")
    read = _READERS.get(kind) if isinstance(kind, str) else None
    if read is None:
        raise Rejected(f"unknown message type {str(kind)[:40]!r}")
    return read(data)


def _json_object(text: str | bytes) -> dict[str, Any]:
    """The one JSON object a message must be, within :data:`MAX_MESSAGE` bytes."""
    if len(text) > MAX_MESSAGE:
        raise Rejected(f"message over {MAX_MESSAGE} bytes")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise Rejected("not JSON") from None
    except RecursionError:  # [[[[...]]]]: deeper than the decoder goes
        raise Rejected("nested too deeply") from None
    if not isinstance(data, dict):
        raise Rejected("not a JSON object")
    return data


def _ping(data: dict[str, Any]) -> Ping:
    ident = data.get("id")
    if isinstance(ident, bool) or not isinstance(ident, int) or not 0 <= ident < 2**53:
        raise Rejected("ping id must be a whole number")
    return Ping(ident)


def _do(data: dict[str, Any]) -> Do:
    name = data.get("action")
    try:
        action = Action(name)
    except ValueError:
        raise Rejected(f"unknown action {str(name)[:40]!r}") from None
    arg = _argument(action, data.get("arg"))
    at = None
    if action is Action.TAP and "at" in data:
        at = _number(data["at"], "tap time")
    return Do(action, arg, at)


def _argument(action: Action, raw: Any) -> str | int | float | None:
    """``raw`` as the argument ``action`` needs (None for one that needs none)."""
    need = ARGUMENTS.get(action)
    if need is str:
        if isinstance(raw, bool) or not isinstance(raw, str | int) or not str(raw).strip():
            raise Rejected(f"{action.value} needs a bar number or a section label")
        return str(raw)[:200]
    if need is int:
        return int(_number(raw, f"{action.value}'s arg"))
    if need is float:
        return _number(raw, f"{action.value}'s arg")
    return None


def _report(data: dict[str, Any]) -> Report:
    raw_flashes = data.get("flashes")
    if not isinstance(raw_flashes, list) or len(raw_flashes) > MAX_FLASHES:
        raise Rejected(f"flashes must be a list of at most {MAX_FLASHES}")
    flashes = []
    for item in raw_flashes:
        if not isinstance(item, list) or len(item) != 3:
            raise Rejected("each flash is [seconds, bar, beat]")
        flashes.append(
            (_number(item[0], "flash time"), int(_number(item[1], "bar")),
             int(_number(item[2], "beat")))
        )
    return Report(tuple(flashes))


#: Each message ``type`` and what reads the rest of it.
_READERS: dict[str, Callable[[dict[str, Any]], Message]] = {
    "ping": _ping,
    "do": _do,
    "report": _report,
}

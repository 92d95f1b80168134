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
    kind = data.get("type")
    if kind == "ping":
        ident = data.get("id")
        if isinstance(ident, bool) or not isinstance(ident, int) or not 0 <= ident < 2**53:
            raise Rejected("ping id must be a whole number")
        return Ping(ident)
    if kind == "do":
        name = data.get("action")
        try:
            action = Action(name)
        except ValueError:
            raise Rejected(f"unknown action {str(name)[:40]!r}") from None
        need = ARGUMENTS.get(action)
        arg: str | int | float | None = None
        if need is str:
            raw = data.get("arg")
            if isinstance(raw, bool) or not isinstance(raw, str | int) or not str(raw).strip():
                raise Rejected(f"{action.value} needs a bar number or a section label")
            arg = str(raw)[:200]
        elif need is int:
            arg = int(_number(data.get("arg"), f"{action.value}'s arg"))
        elif need is float:
            arg = _number(data.get("arg"), f"{action.value}'s arg")
        at = None
        if action is Action.TAP and "at" in data:
            at = _number(data["at"], "tap time")
        return Do(action, arg, at)
    if kind == "report":
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
    raise Rejected(f"unknown message type {str(kind)[:40]!r}")

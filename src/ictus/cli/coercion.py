"""Plain coercion of the command line's strings, numbers and flags.

Typer (0.2x) turns every option's text into its value through a pydantic
``TypeAdapter`` that it builds afresh in each run: for ``ictus render``'s twenty options
that is about 0.1 s of start-up (pydantic's import included), longer than rendering
ten minutes of click. ictus's options are strings, whole numbers, decimals and flags,
which need no schema: :func:`install` gives those a plain conversion and leaves every
other annotation to Typer.

It uses Typer's coercion hook (``typer.core.build_runtime_param``). A Typer without
that hook (an older, click-based one) is left alone and simply runs as it always did;
:func:`installed` tells whether the fast path is active (``make bench`` and a test
check it, so an upgrade of Typer that removes it is noticed).
"""

from __future__ import annotations

from typing import Any

PLAIN: dict[Any, type] = {
    bool: bool,
    str: str,
    str | None: str,
    int: int,
    int | None: int,
    float: float,
    float | None: float,
}

_WORDS = {int: "a whole number", float: "a number", bool: "yes or no"}
_BOOLS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}  # fmt: skip

_installed = False


def convert(kind: type, value: Any) -> Any:
    """``value`` (the command line's text) as ``kind``; ValueError names what was expected.

    >>> convert(int, "48000"), convert(float, "1.5"), convert(str, "song.click")
    (48000, 1.5, 'song.click')
    >>> convert(bool, True), convert(bool, "no")
    (True, False)
    >>> convert(int, "48k")
    Traceback (most recent call last):
    ...
    ValueError: expected a whole number, got '48k'
    """
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    if kind is bool and str(value).strip().lower() in _BOOLS:
        return _BOOLS[str(value).strip().lower()]
    try:
        if kind is bool:
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected {_WORDS.get(kind, kind.__name__)}, got {value!r}") from None


def install() -> bool:
    """Route Typer's coercion of plain options through :func:`convert`; True if done."""
    global _installed
    if _installed:
        return True
    try:
        import typer.core as core
        from typer import BadParameter
        from typer._coercion import RuntimeParam
    except ImportError:
        return False
    typer_build = getattr(core, "build_runtime_param", None)
    if typer_build is None:
        return False

    class PlainParam(RuntimeParam):
        """A string, number or flag: converted without a schema."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return convert(PLAIN[self.annotation], value)
            except ValueError as err:
                raise BadParameter(str(err), ctx=ctx, param=param) from None

    def build(descriptor: Any) -> Any:
        info: Any = getattr(descriptor, "parameter_info", None)
        plain = (
            getattr(descriptor, "annotation", None) in PLAIN
            and getattr(descriptor, "file_annotation", None) is None
            and getattr(info, "parser", None) is None
            and getattr(info, "min", None) is None
            and getattr(info, "max", None) is None
        )
        if not plain:
            # anything else, or a descriptor of a shape we do not know: Typer's own way
            return typer_build(descriptor)
        return PlainParam(parameter_info=info, annotation=descriptor.annotation)

    setattr(core, "build_runtime_param", build)  # noqa: B010 (not in typer's declared API)
    _installed = True
    return True


def installed() -> bool:
    """Whether :func:`install` has replaced Typer's coercion in this process."""
    return _installed

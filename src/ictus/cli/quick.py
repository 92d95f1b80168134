"""``ictus render`` without Typer: a plain command line, read from the same declarations.

Typer's import and the building of its app are a fifth of what a short render costs.
A command whose parameters are all plain (strings, numbers, flags, declared with
:class:`~ictus.cli.options.Option` and :class:`~ictus.cli.options.Argument`) and whose
command line is plain too (``--name VALUE``, ``--name=VALUE``, ``-n VALUE``, flags,
its arguments, each option at most once) is read here and called directly. Anything
else: help, a mistake, a value that is not what its option takes, an unusual spelling,
shell completion, goes to Typer as before, so help and error messages come from one
place and read the same.

The result is the keyword arguments Typer would pass (tests/test_cli_quick.py checks
that against Typer itself), and the command runs as Typer would run it: Ctrl-C exits
130, exit status 0 when it returns.
"""

# no ``from __future__ import annotations``: the commands' annotations are read here
import gc
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NamedTuple, get_args, get_origin

from ictus.cli.app import AREAS
from ictus.cli.coercion import PLAIN, convert
from ictus.cli.options import Argument, Option

__all__ = ["Param", "command_for", "params_of", "parse", "quick_call"]


class Param(NamedTuple):
    """One parameter of a command, as its command line gives it."""

    name: str
    kind: type  # str, int, float or bool
    decls: tuple[str, ...]  # the option's spellings; () for an argument
    default: Any  # inspect.Parameter.empty when required


def params_of(func: Callable[..., Any]) -> list[Param] | None:
    """The parameters of ``func``, or None when one is not plain (then Typer reads it)."""
    found: list[Param] = []
    for p in inspect.signature(func, eval_str=True).parameters.values():
        if get_origin(p.annotation) is not Annotated:
            return None
        base, *extras = get_args(p.annotation)
        if base not in PLAIN or len(extras) != 1:
            return None
        spec = extras[0]
        if isinstance(spec, Option) and set(dict(spec.settings)) <= {"metavar", "help"}:
            found.append(Param(p.name, PLAIN[base], spec.decls, p.default))
        elif isinstance(spec, Argument) and set(dict(spec.settings)) <= {"metavar", "help"}:
            if base is bool:
                return None
            found.append(Param(p.name, PLAIN[base], (), p.default))
        else:
            return None
    return found


def parse(params: Sequence[Param], args: Sequence[str]) -> dict[str, Any] | None:
    """The keyword arguments for a plain command line, or None (for Typer to read).

    >>> ps = [Param("map_file", str, (), inspect.Parameter.empty),
    ...       Param("rate", int, ("--sample-rate", "-r"), 48000),
    ...       Param("quiet", bool, ("--quiet", "-q"), False)]
    >>> parse(ps, ["song.click", "-r", "44100", "-q"])
    {'map_file': 'song.click', 'rate': 44100, 'quiet': True}
    >>> parse(ps, ["song.click", "--sample-rate=96000"])
    {'map_file': 'song.click', 'rate': 96000, 'quiet': False}
    >>> [parse(ps, a) for a in (["song.click", "-r", "48k"], ["song.click", "-h"], [])]
    [None, None, None]
    """
    by_decl = {decl: p for p in params for decl in p.decls}
    positional = [p for p in params if not p.decls]
    given: dict[str, Any] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "-" or not arg.startswith("-"):
            if not positional:
                return None  # an extra argument: Typer says so
            given[positional.pop(0).name] = arg
            continue
        decl, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        param = by_decl.get(decl)
        if param is None or param.name in given:
            return None  # help, an unknown option, or one given twice
        if not eq and param.kind is not bool and rest:
            value, eq = rest.pop(0), "="
        read = _option_value(param, value if eq else None)
        if read is _UNREAD:
            return None
        given[param.name] = read
    for p in params:
        if p.name not in given:
            if p.default is inspect.Parameter.empty:
                return None  # missing: Typer words it
            given[p.name] = p.default
    return {p.name: given[p.name] for p in params}


_UNREAD = object()


def _option_value(param: Param, text: str | None) -> Any:
    """The value an option takes from ``text`` (None: nothing came with it), or _UNREAD."""
    if param.kind is bool:
        return _UNREAD if text is not None else not param.default
    if text is None or (text.startswith("-") and text != "-"):
        return _UNREAD  # no value, or perhaps a forgotten one: Typer's rules decide
    try:
        return convert(param.kind, text)
    except ValueError:
        return _UNREAD  # Typer words the mistake


def command_for(name: str) -> Callable[..., Any] | None:
    """The function of the top-level command ``name`` (None for a group or no command)."""
    for area_name, commands in AREAS.items():
        if name in commands:
            area = importlib.import_module(f"ictus.cli.{area_name}").app
            if area.name is not None or not area.quick:
                return None  # a group (ictus film ...), or an area that needs Typer
            for command, func in zip(area.names(), (f for _, f in area.commands), strict=True):
                if command == name:
                    return func  # type: ignore[no-any-return]
    return None


def quick_call(args: Sequence[str]) -> Callable[[], None] | None:
    """Run the command line ``args`` without Typer, if it is plain; else None.

    The returned function runs the command and behaves as Typer does around it.
    """
    if not args or "_ICTUS_COMPLETE" in os.environ:  # shell completion is Typer's
        return None
    func = command_for(args[0])
    params = params_of(func) if func is not None else None
    kwargs = parse(params, args[1:]) if params is not None else None
    if func is None or kwargs is None:
        return None
    run = func

    def call() -> None:
        # Python's cycle collector would walk numpy's import again and again (8 ms of a
        # short render); a render or a preview makes no cycles in proportion to its
        # work (refcounting frees its blocks), so it runs with the collector paused
        gc.disable()
        try:
            run(**kwargs)
        except KeyboardInterrupt:
            sys.exit(130)  # as Typer: Ctrl-C is exit status 130
        except EOFError:
            sys.stderr.write("\nAborted!\n")
            sys.exit(1)
        finally:
            gc.enable()

    return call

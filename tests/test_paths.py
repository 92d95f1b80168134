"""ictus.paths against pathlib itself: the same strings for any name (POSIX)."""

from __future__ import annotations

import os
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ictus import paths

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pathlib's POSIX reading")

NAMES = st.lists(st.sampled_from(["/", ".", "a", "b", " ", "é", ".wav", "..", "x."]),
                 max_size=12).map("".join)


@settings(max_examples=2000, deadline=None)
@given(text=NAMES)
def test_names_read_as_pathlib_reads_them(text: str) -> None:
    pure = PurePosixPath(text)
    assert paths.normal(text) == str(pure)
    assert paths.parent(text) == str(pure.parent)
    assert paths.name(text) == pure.name
    assert paths.suffix(text) == pure.suffix


@pytest.mark.parametrize("text", ["", "/", "//", "///", "//a", "///a/", "./", "a/./b/",
                                  "../x.wav", "click.", ".click", "a.b.c", "take 1.WAV"])
def test_corner_cases(text: str) -> None:
    pure = PurePosixPath(text)
    assert (paths.normal(text), paths.parent(text), paths.name(text), paths.suffix(text)) == (
        str(pure), str(pure.parent), pure.name, pure.suffix)

"""Older home of :mod:`ictus.timebase.numbers` (kept so existing imports work)."""

from ictus.timebase.numbers import Number, Rounding, round_fraction, to_fraction

__all__ = ["Number", "Rounding", "round_fraction", "to_fraction"]

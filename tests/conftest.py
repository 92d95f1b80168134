"""Shared pytest fixtures."""

from jackserver import jack_server

__all__ = ["jack_server"]

"""Cascading: a meeting larger than one node (hub.py says how the parts fit)."""

from __future__ import annotations

from .node import Cascade

__all__ = ["Cascade"]

"""The English sentences, by what they are about; importing the package declares them all."""

from . import decisions, explanations, notices, phrases, server

__all__ = ["decisions", "explanations", "notices", "phrases", "server"]

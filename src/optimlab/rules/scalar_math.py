"""Functions of a rule's numbers that plain arithmetic does not give (``math.log``, ``math.exp``).

A rule computes its scalars with Python arithmetic so that the same code runs on floats, on the engine's traced
scalars and on tensors; these functions keep that true for the few functions it needs: a float gets
``math.<name>``, a tensor ``torch.<name>``, a traced scalar records the call (its ``_call`` method).
"""

from __future__ import annotations

import math
from typing import Any

import torch


def _apply(name: str, x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return getattr(torch, name)(x)
    call = getattr(x, "_call", None)
    if call is not None:
        return call(name)
    return getattr(math, name)(x)


def log(x: Any) -> Any:
    """Natural logarithm."""
    return _apply("log", x)


def exp(x: Any) -> Any:
    """Exponential."""
    return _apply("exp", x)

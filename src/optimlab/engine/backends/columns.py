"""Columns of tensors for a kernel: addresses, with the safety checks run once per set of tensor objects.

A fused kernel reads and writes through raw addresses, so every tensor it walks must first pass checks
(device, dtype, size, layout, type). Python pays about 0.1 µs per tensor for each attribute it reads,
which for a model of 1000 tensors costs milliseconds a step. Parameters and optimizer state are the same
tensor objects step after step, so :func:`addresses` remembers a column that passed its check (weak
references to its tensors, their addresses, the context it was checked in and the check's result) and,
while the same objects come back at the same addresses in the same context, returns without checking
again: one read of each address and one identity test per tensor.

Whatever replaces a tensor or its memory — ``load_state_dict``, ``p.data = ...``, ``model.to(...)``,
``resize_`` that reallocates — changes an identity or an address, and the full check runs again. An
entry is dropped when the first tensor of its column is freed.
"""

from __future__ import annotations

import functools
import weakref
from operator import call, is_
from typing import Any, Callable, Hashable, Sequence

import numpy as np
import torch

_data_ptr = torch.Tensor.data_ptr
_CACHE: dict[tuple, tuple] = {}


def _evict(key: tuple, _ref: weakref.ref) -> None:
    _CACHE.pop(key, None)


def addresses(tag: str, ts: Sequence[torch.Tensor], context: Hashable,
              check: Callable[[Sequence[torch.Tensor]], Any]) -> tuple[np.ndarray | None, Any]:
    """``(addresses of ts, check(ts))``, running ``check`` only for a column not seen as it is now.

    ``check`` raises if the column is unfit, and then nothing is remembered; the addresses are None
    (and nothing is remembered) when some tensor has no plain storage (a sparse layout). ``tag`` names the role
    of the column (a state slot, the parameters), ``context`` what the check depends on besides the
    tensors themselves (e.g. the parameters' dtype and sizes, which state must match).
    """
    try:
        addrs = np.fromiter(map(_data_ptr, ts), np.int64, len(ts))
    except RuntimeError:  # a tensor without plain storage (sparse): the check and the caller decide
        return None, check(ts)
    if not ts:
        return addrs, check(ts)
    key = (tag, id(ts[0]), len(ts))
    entry = _CACHE.get(key)
    if entry is not None:
        refs, known, known_context, result = entry
        if known == addrs.tobytes() and known_context == context and all(map(is_, map(call, refs), ts)):
            return addrs, result
    result = check(ts)
    refs = [weakref.ref(ts[0], functools.partial(_evict, key)), *map(weakref.ref, ts[1:])]
    _CACHE[key] = (refs, addrs.tobytes(), context, result)
    return addrs, result


def forget() -> None:
    """Drop every remembered column (tests use it to force the full checks)."""
    _CACHE.clear()

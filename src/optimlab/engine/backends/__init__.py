"""The engine's implementations: siblings behind one interface, registered in one list.

A :class:`Backend` runs a rule over a bucket (tensors of one device, dtype and step). Every backend runs
the same rule source — :mod:`.reference` and :mod:`.foreach` with real tensors, :mod:`.kernel`'s numba
and Triton backends through the traced program — so parity holds by construction, and the tests hold
every one to the reference.

:data:`BACKENDS` is the list, in ``impl="auto"``'s order of preference: the first whose ``auto_devices``
whose :meth:`Backend.unfit` finds nothing wrong runs it (the reference runs anything).
"""

from __future__ import annotations

import abc
from typing import Any

from optimlab.engine.job import Job
from optimlab.engine.state import Bucket


class Backend(abc.ABC):
    """One way to run a rule over a bucket."""

    name: str = ""
    """The ``impl`` that selects it."""
    def unfit(self, bucket: Bucket, job: Job) -> str | None:
        """Why ``impl="auto"`` may not give this backend ``bucket``, or None when it may (it may keep work in
        ``bucket.prepared`` for :meth:`run`)."""
        return None

    @abc.abstractmethod
    def run(self, bucket: Bucket, job: Job) -> None:
        """One step of ``job``'s rule over ``bucket`` (raises ``ValueError`` naming the reason if it cannot)."""

    def __repr__(self) -> str:
        return f"<backend {self.name}>"


def _registered() -> tuple[Backend, ...]:
    from optimlab.engine.backends.foreach import FOREACH
    from optimlab.engine.backends.kernel import NUMBA, TRITON
    from optimlab.engine.backends.reference import REFERENCE

    return (NUMBA, TRITON, FOREACH, REFERENCE)


BACKENDS: tuple[Backend, ...] = _registered()
"""Every implementation, in ``impl="auto"``'s order of preference."""

BY_NAME: dict[str, Backend] = {b.name: b for b in BACKENDS}


def get(name: str) -> Any:
    return BY_NAME[name]

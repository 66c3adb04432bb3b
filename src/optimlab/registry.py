"""Public registry API: ``names()``, ``get(name)``, ``specs()`` and the :class:`Spec` type.

Example::

    from optimlab import registry
    spec = registry.get("adam")
    opt = spec.make(model.parameters(), lr=spec.lr_grid()[3])
"""

from optimlab.core.registry import (
    SEED_FAMILY,
    Capabilities,
    Hyper,
    Spec,
    UnknownOptimizerError,
    get,
    log_grid,
    names,
    specs,
)

__all__ = ["SEED_FAMILY", "Capabilities", "Hyper", "Spec", "UnknownOptimizerError", "get", "log_grid", "names", "specs"]

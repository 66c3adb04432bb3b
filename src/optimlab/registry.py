"""Public registry API: ``names()``, ``get(name)``, ``specs()`` and the :class:`Spec` type.

Example::

    from optimlab import registry
    spec = registry.get("adam")
    opt = spec.make(model.parameters(), lr=spec.lr_grid()[3])

The registry is :mod:`optimlab.catalog`, which discovers the family in :mod:`optimlab.optimizers`.
"""

from optimlab.catalog import (
    SEED_FAMILY,
    Capabilities,
    HyperInfo,
    Spec,
    UnknownOptimizerError,
    classes,
    get,
    log_grid,
    names,
    specs,
)

Hyper = HyperInfo

__all__ = ["SEED_FAMILY", "Capabilities", "Hyper", "HyperInfo", "Spec", "UnknownOptimizerError", "classes", "get",
           "log_grid", "names", "specs"]

"""The comparison report: ``optimlab compare`` and what it writes.

    from optimlab.report.compare import Settings, compare
    outcome = compare(Settings(task="digits-mlp", optimizers=("sgd", "adam"), quick=True))
    outcome.out / "index.html"

:func:`~optimlab.report.compare.compare` tunes each optimizer's learning rate (:mod:`optimlab.tune`), trains at the best one over
held-out seeds (:mod:`optimlab.bench.tasks`), races the same optimizers on a 2-D surface
(:mod:`optimlab.lab`) and writes a self-contained ``index.html``, ``results.json`` (schema
:data:`~optimlab.report.schema.SCHEMA`), ``results.md`` and the figures, all at once.
:func:`write_report` renders a report from a results dict alone; named experiments live in
:mod:`optimlab.report.experiments`.
"""

# The function ``compare`` is not re-exported here: it would hide the module ``optimlab.report.compare``.
from optimlab.report.compare import DEFAULT_OPTIMIZERS, DEFAULT_TASK, Outcome, Settings, write_report
from optimlab.report.experiments import EXPERIMENTS
from optimlab.report.schema import SCHEMA, validate

__all__ = ["DEFAULT_OPTIMIZERS", "DEFAULT_TASK", "EXPERIMENTS", "Outcome", "SCHEMA", "Settings", "validate",
           "write_report"]

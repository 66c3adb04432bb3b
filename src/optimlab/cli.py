"""One entry point: ``optimlab <command>``.

Each command lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``;
this file only dispatches, so parts of the project add commands without touching each other.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("optimlab.demo", "train a small MLP on the bundled digits with every optimizer"),
    "optimizers": ("optimlab.docs_gen", "list the optimizer family (or write docs/optimizers.md)"),
    "race": ("optimlab.lab.cli_race", "race optimizers on a loss surface (PNG, GIF or MP4)"),
    "surfaces": ("optimlab.lab.cli_surfaces", "list the built-in loss surfaces"),
    "tune": ("optimlab.tune.cli", "tune an optimizer's learning rate on a task"),
    "compare": ("optimlab.report.cli", "tune, train and compare optimizers; write a report"),
    "bench": ("optimlab.bench.cli", "benchmark optimizer steps against torch.optim"),
}


def _available() -> dict[str, tuple[str, str]]:
    out = {}
    for name, (module, help_) in COMMANDS.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            out[name] = (module, help_)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optimlab", description="Deep-learning optimizers, raced, tuned and compared.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in _available().items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except (ValueError, FileNotFoundError, PermissionError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"optimlab {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench <measurement> [options]``: one measurement per module, each printing the
machine, the versions, medians and ratios (bench/README.md has the commands and results)."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# name -> module in this package; each has add_arguments(parser) and main(args) -> int.
MEASUREMENTS = {
    "pages": "bench.pages",
    "inbox": "bench.inbox",
    "outbox": "bench.outbox",
    "memory": "bench.memory",
    "nearby": "bench.nearby",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="measurement", required=True)
    modules = {}
    for name, module_name in MEASUREMENTS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        sub = commands.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        sub.add_argument(
            "--tiny",
            action="store_true",
            help="the smallest size and one round: proves it still works (CI), measures nothing",
        )
        module.add_arguments(sub)
    args = parser.parse_args(argv)
    return int(modules[args.measurement].main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

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

# name -> (module in this package, what it measures); each module has add_arguments(parser)
# and main(args) -> int. Only the chosen one is imported.
MEASUREMENTS = {
    "pages": ("bench.pages", "public pages under gunicorn against a bare Flask app"),
    "inbox": ("bench.inbox", "the back-office inbox and search at 1,000 and 1,000,000 signals"),
    "outbox": ("bench.outbox", "outbox delivery against raw smtplib"),
    "memory": ("bench.memory", "worker memory after 100 and 10,000 requests"),
    "nearby": ("bench.nearby", "nearby open signals at 1,000,000 signals"),
    "steering": ("bench.steering", "the management dashboard at 1,000 and 1,000,000 signals"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="measurement", required=True)
    modules = {}
    for name, (module_name, summary) in MEASUREMENTS.items():
        sub = commands.add_parser(name, help=summary)
        if name not in argv[:1]:
            continue
        module = importlib.import_module(module_name)
        modules[name] = module
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

"""``deploygate``: the work around a gate run (sign-offs, waivers, showing, validating,
reading records).

Exit codes: 0 success; 1 ``validate`` found problems; 2 refused (bad input, with one clear
line); ``verdict`` exits with the record's decision (0 PASS, 1 FAIL, 2 ROLLBACK, 3 SKIPPED,
4 not a trustworthy record, 5 INCOMPLETE).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_deploygate.cli import attest, hook, importing, show, validate, verdict, waive
from pytest_deploygate.cli.workspace import Refusal, Workspace, complain
from pytest_deploygate.core.version import __version__

REFUSED = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="deploygate", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--root", type=Path, default=Path("."),
                        help="the gated project's root (default: the current directory)")
    parser.add_argument("--specs", type=Path, default=None,
                        help="your own gate spec directory (default: <root>/gate_specs)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="import MODULE for its check kinds (repeatable)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (attest, waive, show, validate, verdict, importing, hook):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m pytest_deploygate``."""
    args = build_parser().parse_args(argv)
    root = args.root.resolve()
    if not root.is_dir():
        complain(f"--root {args.root}: not a directory")
        return REFUSED
    workspace = Workspace(root, (args.specs or root / "gate_specs").resolve(), args.plugin)
    try:
        return int(args.run(args, workspace))
    except Refusal as exc:
        for line in str(exc).splitlines():
            complain(line)
        return REFUSED
    except OSError as exc:  # a file the command must write or read is not usable
        where = f"{exc.filename}: " if exc.filename else ""
        complain(f"{where}{exc.strerror or exc}")
        return REFUSED
    except BrokenPipeError:  # e.g. `deploygate show 12 | head`: the reader left, not an error
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())

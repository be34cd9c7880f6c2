"""``deploygate``: the work around a gate run (sign-offs, waivers, showing, validating,
reading records).

Exit codes: 0 success; 1 ``validate`` found problems; 2 refused (bad input, with one clear
line); ``verdict`` exits with the record's decision (0 PASS, 1 FAIL, 2 ROLLBACK, 3 SKIPPED,
4 not a trustworthy record, 5 INCOMPLETE), and 4 when it refuses its command line or the
project's configuration: never 2, which deploy jobs answer with a rollback.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import typing
from collections.abc import Sequence
from pathlib import Path

from pytest_deploygate.cli.project_ini import (
    DEFAULT_SPEC_FOLDER,
    IniError,
    outside_repository_problem,
    read_gate_ini,
)
from pytest_deploygate.cli.workspace import Refusal, Workspace, complain
from pytest_deploygate.core.version import __version__

REFUSED = 2
#: ``verdict``'s code for a refusal before any record is judged (a usage error, a
#: configuration it will not read, a table it could not print). 2 is ROLLBACK there, and the
#: recipes roll production back on it: a typo in the deploy job must not do that.
VERDICT_REFUSED = 4
#: Each subcommand and the module of ``pytest_deploygate.cli`` that implements it, in the
#: order the help lists them. Only the module of the command given is imported: deploy jobs
#: call ``deploygate verdict`` often, and importing every command (pytest, a markdown parser,
#: the sign-off machinery) cost more than the verdict itself.
COMMANDS = {"attest": "attest", "waive": "waive", "show": "show", "validate": "validate",
            "verdict": "verdict", "import": "importing", "hook": "hook"}


class _NotParsed(Exception):
    """The first look at the command line could not parse it (the full parser will say why)."""


class _FirstLook(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise _NotParsed(message)


def command_given(argv: Sequence[str] | None) -> str | None:
    """The subcommand on the command line, parsed with the real global options (so their
    abbreviations and values count as they will), or None when there is none to trust."""
    first = _FirstLook(add_help=False, allow_abbrev=True)
    _add_global_options(first)
    first.add_argument("command", nargs="?")
    try:
        known, _ = first.parse_known_args(argv)
    except _NotParsed:
        return None
    return known.command if known.command in COMMANDS else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: with only the subcommand ``argv`` names, else with every one."""
    parser = argparse.ArgumentParser(
        prog="deploygate", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = command_given(sys.argv[1:] if argv is None else argv)
    for name, module in COMMANDS.items():
        if chosen in (None, name):
            importlib.import_module(f"pytest_deploygate.cli.{module}").add_parser(sub)
    return parser


def folder_argument(text: str) -> Path:
    """A folder named on the command line; an empty one is refused: ``Path("")`` is ".", so
    ``--root "$PROJECT"`` with the variable unset judged the current folder instead."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty: name a folder, or leave the option out (is "
                                         "the variable that names it unset?)")
    return Path(text)


def file_argument(text: str) -> Path:
    """A file named on the command line; an empty name is refused (as for a folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty: name a file, or leave the option out (is "
                                         "the variable that names it unset?)")
    return Path(text)


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=folder_argument, default=Path("."),
                        help="the gated project's root (default: the current directory)")
    parser.add_argument("--specs", type=folder_argument, default=None,
                        help="your own gate spec directory (default: the ini setting "
                             "deploygate_specs of the project's pytest configuration, else "
                             "<root>/gate_specs)")
    parser.add_argument("-c", "--config-file", type=file_argument, default=None,
                        metavar="FILE",
                        help="the pytest configuration file the gate ran with (pytest -c "
                             "FILE; default: the one pytest finds from the root)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="import MODULE for its check kinds (repeatable)")


def console_main() -> int:
    """The ``deploygate`` console script and ``python -m pytest_deploygate``: :func:`main`
    in a process of its own, without the cyclic garbage collector. A command lives well under
    a second and what it makes dies with it; the collector's passes over the modules it
    imports were 4 % of a ``deploygate verdict`` (which deploy jobs call often)."""
    import gc

    gc.disable()
    from pytest_deploygate.core.startup_steering import exit_prompted

    if not exit_prompted():
        return main()
    # -i or PYTHONINSPECT: the interpreter would open its prompt instead of exiting, and at
    # the end of an empty stdin (CI) exit 0 whatever the command returned; a deploy job runs
    # on `deploygate verdict`'s exit code. Leave with the command's own code, prompt unread.
    code = _run_to_code()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run_to_code() -> int:
    """:func:`main`'s exit code, also when it exits by SystemExit (argparse) or raises."""
    import traceback

    try:
        return main()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        sys.stderr.write(f"{exc.code}\n")
        return 1
    except BaseException:  # any failure is a non-zero exit, never 0
        traceback.print_exc()
        return 1


def _verdict_asked(argv: Sequence[str] | None) -> bool:
    """Whether the command line asks for ``verdict``; when it cannot be parsed, whether the
    word is on it at all (a deploy job's misspelt option must not exit with ROLLBACK's 2)."""
    words = list(sys.argv[1:] if argv is None else argv)
    chosen = command_given(words)
    return chosen == "verdict" if chosen is not None else "verdict" in words


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m pytest_deploygate``."""
    refused = VERDICT_REFUSED if _verdict_asked(argv) else REFUSED
    try:
        args = build_parser(argv).parse_args(argv)
    except SystemExit as exc:  # argparse's usage error is 2; --help and --version are 0
        if exc.code == REFUSED and refused != REFUSED:
            raise SystemExit(refused) from None
        raise
    root = args.root.resolve()
    if not root.is_dir():
        complain(f"--root {args.root}: not a directory")
        return refused
    from pytest_deploygate.evidence.gate_definition import (
        repository_top,
        spec_folder_outside_problem,
        way_out,
    )

    top = repository_top(root)
    try:  # the spec folder and size limits pytest --gate reads for this project
        ini = read_gate_ini(root, args.config_file)
        # As pytest --gate refuses it: a configuration file outside the repository is read
        # only when the command line names it (-c there, --config-file here).
        outside = outside_repository_problem(ini, top, args.config_file is not None) \
            if top is not None else None
        if outside:
            raise IniError(outside)
        limits = ini.limits()
        from_ini = None if args.specs else ini.folder("deploygate_specs")
        spec_dir = args.specs or from_ini or root / DEFAULT_SPEC_FOLDER
    except IniError as exc:
        complain(str(exc))
        return refused
    if args.specs and args.specs.name != DEFAULT_SPEC_FOLDER and not args.specs.is_dir():
        complain(f"--specs {args.specs}: not a folder; name the folder of your gate specs")
        return refused
    from pytest_deploygate.evidence.release import spec_folder_problem

    in_bookkeeping = spec_folder_problem(root, spec_dir)
    if in_bookkeeping:  # as pytest --gate refuses it
        where = "--specs" if args.specs else "deploygate_specs"
        complain(f"{where} {spec_dir}: {in_bookkeeping}")
        return refused
    # A folder the configuration file names is the command line's when the command line
    # named that file and it lies outside the repository (pytest --gate judges it so).
    named_by_a_file = from_ini is not None and not (
        args.config_file is not None and ini.path is not None and top is not None
        and way_out(ini.path, top) == (True, None))
    specs_outside = spec_folder_outside_problem(spec_dir, top, named_by_a_file,
                                                "--specs DIR") if top is not None else None
    if specs_outside:  # as pytest --gate refuses it: only the command line names one outside
        where = f"--specs {spec_dir}" if args.specs else \
            f"{ini.path}: deploygate_specs = {ini.values.get('deploygate_specs', '')!r}"
        complain(f"{where}: {specs_outside}")
        return refused
    workspace = Workspace(root, spec_dir.resolve(), args.plugin, limits=limits,
                          spec_dir_as_named=spec_dir.absolute(), ini_path=ini.path, top=top)
    try:
        return int(args.run(args, workspace))
    except Refusal as exc:
        for line in str(exc).splitlines():
            complain(line)
        return refused
    except BrokenPipeError:  # e.g. `deploygate show 12 | head`: the reader left, not an error
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        # (Before OSError, of which it is one: there it was "Broken pipe", exit 2.)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        # verdict's table was cut before its decision was reached: that is no verdict
        return 0 if refused == REFUSED else refused
    except OSError as exc:  # a file the command must write or read is not usable
        where = f"{exc.filename}: " if exc.filename else ""
        complain(f"{where}{exc.strerror or exc}")
        return refused


if __name__ == "__main__":
    sys.exit(console_main())

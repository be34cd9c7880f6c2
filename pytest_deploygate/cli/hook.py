"""``deploygate hook``: make today's iSDLC framework obey the gate.

``deploygate hook install`` writes a user hook (``.isdlc/hooks/<name>/hook.yaml`` with
``triggers: {pre-gate: true}`` and an executable ``hook.sh``) that the framework runs before
it advances a phase. The hook runs ``deploygate hook run``, which runs the gate of the phase
being advanced (``ISDLC_PHASE``) in ``ISDLC_PROJECT_ROOT`` and says PASS or why not.

The framework blocks the advance only on exit 2; it treats exit 1, exit 3 and above, a crash
and a timeout as warnings and advances. So the hook fails closed: it exits 0 on PASS and 2 on
everything else (FAIL, ROLLBACK, INCOMPLETE, SKIPPED, an error of pytest, no record, a failure
of the hook itself), and its ``timeout_ms`` covers the gate's longest run (``--gate-watch``
included) with the hook's own, shorter, timeout inside it. SKIPPED blocks too: a gate whose
prerequisites are unmet evaluated nothing, and advancing on it is advancing without a gate.
``--on PHASE`` limits a hook to some phases (the others pass through) and ``--gate KEY``
runs another phase's gate, so production can be gated when the phase that deploys advances.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from pytest_deploygate.cli.workspace import Refusal, Workspace, say
from pytest_deploygate.core.version import __version__

BLOCK = 2
#: What the framework allows beyond the hook's own timeout (start-up, reading the record).
MARGIN_SECONDS = 60
DEFAULT_TIMEOUT = 900
_SHOWN = 10
#: The longest line the hook prints. The framework reads a hook's output into a 1 MiB buffer
#: and treats an overflow as a crash of the hook, which it only warns about and advances on: a
#: pytest error quoting a long ISDLC_PHASE, or a criterion's long message, must not get there.
_LONGEST_LINE = 300
#: How much of pytest's output is kept to show why it wrote no record (its last lines).
_TAIL_BYTES = 64 * 1024
#: One phase key of the framework (``06-implementation``, an alias such as ``14-production``).
#: The hook runs the gate of exactly one phase: never an expression that selects several
#: (``all``, ``current``, ``06-implementation,05-test-strategy``), of which it would read one
#: record only.
_HOOK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_RECORD_DIR = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._/-]*")
_PHASE_KEY = re.compile(r"[0-9]{2,3}-[a-z0-9][a-z0-9-]*")

HOOK_YAML = """\
# Installed by `deploygate hook install` (pytest-deploygate {version}); reinstall to change it.
# The iSDLC framework runs hook.sh before it advances a phase and blocks the advance on exit 2.
name: {name}
description: Runs the pytest-deploygate gate of the advancing phase; blocks unless PASS
entry_point: hook.sh
severity: critical
retry_limit: 3
timeout_ms: {timeout_ms}
outputs: [{records}]
triggers:
  pre-gate: true
"""

HOOK_SH = """\
#!/bin/sh
# Installed by `deploygate hook install` (pytest-deploygate {version}); reinstall to change it.
# Runs the gate of the phase being advanced (ISDLC_PHASE) in ISDLC_PROJECT_ROOT. Exit 0 only
# on PASS; everything else exits 2, the only code that makes the framework block: it treats
# other codes, a crash and a timeout as warnings and advances.
{command}
status=$?
if [ "$status" -eq 0 ]; then
  exit 0
fi
exit 2
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``hook install`` and ``hook run``."""
    parser = sub.add_parser(
        "hook", help="make today's iSDLC framework run the gate before it advances a phase",
        description="Install (or run) a pre-gate user hook of the iSDLC framework that runs "
                    "the gate of the phase being advanced and blocks the advance (exit 2) on "
                    "anything but PASS.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    install = verbs.add_parser(
        "install", help="write .isdlc/hooks/<name>/hook.yaml and hook.sh",
        description="Write the hook into the project's .isdlc/hooks/. Exit 0, or 2 when it "
                    "cannot be written.")
    _run_options(install)
    install.add_argument("--name", default="deploygate",
                         help="the hook's directory under .isdlc/hooks/ (default: deploygate)")
    install.add_argument("--python", default=sys.executable,
                         help="the interpreter that runs the gate (default: this one)")
    install.add_argument("--force", action="store_true", help="replace an installed hook")
    install.set_defaults(run=run_install)
    run = verbs.add_parser(
        "run", help="run the gate of $ISDLC_PHASE (what the installed hook does)",
        description="Run the gate of the phase in ISDLC_PHASE in ISDLC_PROJECT_ROOT. Exit 0 "
                    "on PASS, 2 otherwise.")
    _run_options(run)
    run.set_defaults(run=run_gate)


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", choices=("all", "pre", "post"), default="all",
                        help="which stage of the gate to run (default: all)")
    parser.add_argument("--gate-watch", metavar="DURATION", default=None,
                        help="post stage: watch rollback triggers this long (e.g. 15m)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="longest gate run without the watch (default: "
                             f"{DEFAULT_TIMEOUT}); the watch is added to it")
    parser.add_argument("--tests", action="append", default=[], metavar="PATH",
                        help="test paths whose gate-marked tests join the gate (default: "
                             "none, the gate alone)")
    parser.add_argument("--record-dir", default="gate-records", metavar="DIR",
                        help="where the records go, relative to the project (default: "
                             "gate-records)")
    parser.add_argument("--on", action="append", default=[], metavar="PHASE",
                        help="act only when one of these phases is advanced (repeatable; "
                             "default: every phase); other phases pass through")
    parser.add_argument("--gate", default=None, metavar="KEY",
                        help="run this gate instead of the advanced phase's own (e.g. "
                             "13-production on the phase that deploys)")


def _watch_seconds(args: argparse.Namespace) -> float:
    if not args.gate_watch:
        return 0.0
    from pytest_deploygate.core.timeutil import parse_duration

    try:
        seconds = parse_duration(args.gate_watch)
    except ValueError as exc:
        raise Refusal(f"--gate-watch: {exc}") from None
    if args.stage != "post":
        raise Refusal("--gate-watch watches rollback triggers after the deploy: use it with "
                      "--stage post")
    return seconds


def _shown(text: str, longest: int = _LONGEST_LINE) -> str:
    """One line the framework can show: control characters escaped, no longer than
    ``longest``; a longer one keeps its start and its end, where the reason is."""
    from pytest_deploygate.core.printable import shown

    line = shown(" ".join(text.splitlines()))
    if len(line) <= longest:
        return line
    cut = f" ... ({len(line)} characters) ... "
    keep = max(longest - len(cut), 2) // 2
    return line[:keep] + cut + line[-keep:]


def _say(text: str) -> None:
    say(_shown(text))


def _one_phase(text: str, where: str) -> str:
    """The canonical key of the one phase ``text`` names, or a refusal saying what to give."""
    key = text.strip()
    if not _PHASE_KEY.fullmatch(key):
        raise Refusal(f"{where} {_shown(repr(key), 80)}: not one phase key: name the phase "
                      "(e.g. 06-implementation); the hook runs the gate of exactly one phase")
    from pytest_deploygate.isdlc.layout import CURRENT, Layout

    return Layout(CURRENT, "").canonical(key)


def _budget(args: argparse.Namespace) -> float:
    if args.timeout <= 0:
        raise Refusal("--timeout must be a positive number of seconds")
    timeout: float = args.timeout
    return timeout + _watch_seconds(args)


def run_install(args: argparse.Namespace, workspace: Workspace) -> int:
    """Write hook.yaml and hook.sh."""
    budget = _budget(args)
    if not _HOOK_NAME.fullmatch(args.name):
        raise Refusal(f"--name {_shown(repr(args.name), 80)}: one directory name of letters, "
                      "digits, '-' and '_' (e.g. deploygate)")
    if Path(args.record_dir).is_absolute() or ".." in Path(args.record_dir).parts:
        raise Refusal(f"--record-dir {args.record_dir!r}: a directory inside the project")
    if not _RECORD_DIR.fullmatch(args.record_dir):
        # hook.yaml is read line by line by the framework's own small parser: a line break in
        # a value wrote a key of its own (timeout_ms: 1 made every run a timeout, a warning
        # the framework advances on), and a comma or bracket another list item.
        raise Refusal(f"--record-dir {_shown(repr(args.record_dir), 80)}: a relative folder "
                      "of letters, digits, '.', '-', '_' and '/' (e.g. gate-records)")
    for phase in args.on:  # refused now, not at every advance the hook then blocks
        _one_phase(phase, "--on")
    if args.gate:
        _one_phase(args.gate, "--gate")
    from pytest_deploygate.core.paths import OutsideRoot, inside_root

    directory = workspace.root / ".isdlc" / "hooks" / args.name
    try:
        # The folder is in the repository as its files are: a committed link (the hook's
        # folder, hooks/ or .isdlc/) to a folder elsewhere must not receive an executable.
        inside_root(workspace.root, f".isdlc/hooks/{args.name}")
    except OutsideRoot as exc:
        raise Refusal(f"hook folder {exc}") from None
    if directory.exists() and not args.force:
        raise Refusal(f"{directory} exists; pass --force to replace it")
    directory.mkdir(parents=True, exist_ok=True)
    # -P: the hook runs with the project as its working folder, where a committed
    # pytest_deploygate/ (or pytest.py) would be imported instead of the installed package and
    # could say PASS; -E: neither may PYTHONPATH and the other PYTHON* variables choose code.
    command = [args.python, "-E", "-P", "-m", "pytest_deploygate", "hook", "run",
               "--stage", args.stage,
               "--timeout", str(args.timeout), "--record-dir", args.record_dir]
    if args.gate_watch:
        command += ["--gate-watch", args.gate_watch]
    for path in args.tests:
        command += ["--tests", path]
    for phase in args.on:
        command += ["--on", phase]
    if args.gate:
        command += ["--gate", args.gate]
    timeout_ms = int((budget + MARGIN_SECONDS) * 1000)
    # Replaced, never written into: the folder is in the repository, so --force may find a
    # committed named pipe there (the write would wait for a reader) or a link to a file
    # elsewhere (which would be overwritten and made executable).
    from pytest_deploygate.core.atomic import write_atomic

    write_atomic(directory / "hook.yaml", HOOK_YAML.format(
        version=__version__, name=args.name, timeout_ms=timeout_ms,
        records=args.record_dir).encode())
    write_atomic(directory / "hook.sh", HOOK_SH.format(
        version=__version__, command=shlex.join(command)).encode(), mode=0o755)
    say(f"installed {directory}/hook.yaml (pre-gate, timeout_ms {timeout_ms}) and hook.sh: "
        "the framework now runs the phase's gate before it advances a phase")
    return 0


def run_gate(args: argparse.Namespace, workspace: Workspace) -> int:
    """Run the phase's gate; 0 on PASS, 2 on everything else (never another code)."""
    try:
        return _run_gate(args)
    except Refusal as exc:
        _say(f"deploygate hook: {exc}; blocking the advance")
        return BLOCK
    except Exception as exc:  # a failure of the hook itself must block, not warn
        _say(f"deploygate hook: failed: {type(exc).__name__}: {exc}; blocking the advance")
        return BLOCK


def _run_gate(args: argparse.Namespace) -> int:
    phase_text = os.environ.get("ISDLC_PHASE", "").strip()
    root_text = os.environ.get("ISDLC_PROJECT_ROOT", "").strip()
    if not phase_text or not root_text:
        raise Refusal("ISDLC_PHASE and ISDLC_PROJECT_ROOT must name the phase being advanced "
                      "and the project (the framework sets them for pre-gate hooks)")
    phase = _one_phase(phase_text, "ISDLC_PHASE")
    root = Path(root_text)
    if not root.is_absolute():
        raise Refusal(f"ISDLC_PROJECT_ROOT {_shown(root_text)!r}: not an absolute path (the "
                      "framework sets the project's absolute path)")
    if not (root / ".isdlc").is_dir():
        raise Refusal(f"ISDLC_PROJECT_ROOT {_shown(str(root))}: no .isdlc/ there")
    unseen = _never_advanced(root, {_one_phase(wanted, "--on") for wanted in args.on})
    if unseen:
        raise Refusal(unseen)
    if args.on and phase not in {_one_phase(wanted, "--on") for wanted in args.on}:
        _say(f"deploygate hook: {phase} is not gated by this hook (--on {', '.join(args.on)})")
        return 0
    gate = _one_phase(args.gate, "--gate") if args.gate else phase
    budget = _budget(args)
    record_dir = root / args.record_dir
    record = record_dir / (f"{gate}.xml" if args.stage == "all" else f"{gate}-{args.stage}.xml")
    before = _identity(record)
    command = [sys.executable, *_HARDENED_PYTHON, "-m", "pytest", *_HARDENED_PYTEST,
               f"--gate={gate}", f"--gate-root={root}", f"--gate-record-dir={record_dir}",
               f"--gate-stage={args.stage}", "--rootdir", str(root)]
    if args.gate_watch:
        command.append(f"--gate-watch={args.gate_watch}")
    if args.tests:
        command += args.tests
    else:  # the gate alone: nothing of the project's folders is collected, so none runs
        # (-p no:python: no test module can be imported either, which a signing run, with a
        # key in the agent's environment, requires.)
        command += ["-p", "no:python",
                    f"--ignore-glob={glob.escape(str(root / '.isdlc'))}{os.sep}*",
                    str(root / ".isdlc")]
    returncode, tail = _run_pytest(command, root, budget, gate)
    after = _identity(record)
    if after is None or after == before:  # a record left by an earlier run proves nothing
        for line in tail:
            _say(f"  {line}")
        raise Refusal(f"the gate {_shown(gate, 80)} wrote no record "
                      f"{_shown(os.path.relpath(record, root), 120)} (pytest exit {returncode})")
    return _report(phase, gate, args.stage, record, root, returncode)


def _never_advanced(root: Path, gated: set[str]) -> str | None:
    """Why this advance leaves a phase named by ``--on`` for good without its gate, or None.

    The framework runs pre-gate hooks only when it advances the current phase
    (``phase-advance.cjs``): it jumps over the phases whose ``phase_status`` is ``skipped``
    without running any hook, and it completes the last phase of a workflow without running
    any either. A hook installed ``--on 13-production`` passed the advance that jumped over a
    skipped production, or that entered a workflow's last phase, production: its gate never
    ran and the workflow completed.

    And it advances the phase at ``current_phase_index`` while it tells the hook
    ``current_phase``: with the two apart, the hook passed the gate of one phase and the
    framework moved past another without its gate."""
    import json

    try:
        state = json.loads((root / ".isdlc" / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the framework advances nothing without a readable state either
    workflow = state.get("active_workflow") if isinstance(state, dict) else None
    if not isinstance(workflow, dict):
        return None
    phases, index = workflow.get("phases"), workflow.get("current_phase_index")
    statuses = workflow.get("phase_status")
    if not isinstance(phases, list) or isinstance(index, bool) or not isinstance(index, int) \
            or not isinstance(statuses, dict) or not 0 <= index < len(phases) - 1:
        return None
    from pytest_deploygate.isdlc.layout import CURRENT, Layout

    canonical = Layout(CURRENT, "").canonical
    advanced, told = phases[index], workflow.get("current_phase")
    if not isinstance(advanced, str) or not isinstance(told, str) or \
            canonical(advanced) != canonical(told):
        return (f"the framework advances {_shown(repr(advanced), 40)} (active_workflow."
                f"current_phase_index {index}) but runs the gate of {_shown(repr(told), 40)} "
                "(active_workflow.current_phase); put state.json right")
    if not gated:
        return None
    following = index + 1
    while following < len(phases) and statuses.get(phases[following]) == "skipped":
        name = phases[following]
        if isinstance(name, str) and canonical(name) in gated:
            return (f"this advance jumps over {_shown(name, 40)} (phase_status skipped), "
                    "and the framework runs no hook for it: its gate would never run; take it "
                    "out of the workflow, or gate it --on the phase before it")
        following += 1
    last = phases[following] if following == len(phases) - 1 else None
    if isinstance(last, str) and canonical(last) in gated:
        return (f"this advance enters {_shown(last, 40)}, the workflow's last phase, which "
                "the framework completes without hooks: its gate would never run; add a phase "
                f"after it, or install --on the phase before it with --gate {_shown(last, 40)}")
    return None


#: The hook's run is the CI invocation of docs/ci-recipes.md: code of the repository it
#: gates never runs in the process that decides (a conftest.py, a test file under .isdlc/, a
#: pytest.py or pytest_deploygate/ in the project folder, a plugin named in addopts or in
#: PYTEST_ADDOPTS/PYTEST_PLUGINS could rewrite the record and exit 0), and the project's
#: addopts cannot change the gate (-o deploygate_specs=..., -k, --deselect), nor its pythonpath
#: put a folder of the checkout first on sys.path (a committed yaml.py, queue.py, ...).
_HARDENED_PYTHON = ("-E", "-P")
_HARDENED_PYTEST = ("-p", "pytest_deploygate.plugin", "-p", "no:cacheprovider",
                    "--noconftest", "-o", "addopts=", "-o", "pythonpath=")
#: Environment variables that load code into pytest or add options to its command line.
_UNSET = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def _pytest_environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _UNSET}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """What tells the record this run wrote from one that was there before (the plugin
    replaces a record, never writes into it); None when there is none."""
    try:
        status = path.lstat()
    except OSError:
        return None
    return status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size


def _run_pytest(command: list[str], root: Path, budget: float, gate: str
                ) -> tuple[int, list[str]]:
    """Run the gate in a session of its own; its exit code and the last lines it printed.

    The output goes to a file, not a pipe: a process the run left behind holding a pipe open
    would keep the hook waiting past the framework's timeout, and a timeout is a warning the
    framework advances on. On timeout the whole session is killed."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, cwd=root, env=_pytest_environment(),
                                   stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            returncode = process.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise Refusal(f"the gate {_shown(gate, 80)} ran longer than {budget:g} s "
                          "(--timeout, plus --gate-watch)") from None
        size = output.seek(0, os.SEEK_END)
        output.seek(max(0, size - _TAIL_BYTES))
        text = output.read().decode("utf-8", "replace")
    return returncode, text.strip().splitlines()[-_SHOWN:]


def _report(phase: str, gate: str, stage: str, path: Path, root: Path, returncode: int) -> int:
    from pytest_deploygate.records.names import REPLAY_PROPERTY, THRESHOLD_OVERRIDES_PROPERTY
    from pytest_deploygate.records.reader import RecordError, read_record

    try:
        record = read_record(path)
    except RecordError as exc:
        raise Refusal(str(exc)) from None
    props = record.properties
    decision = props.get("deploygate.decision", "?")
    shown = os.path.relpath(path, root)
    _say(f"deploygate: {props.get('deploygate.gate', '?')} "
         f"{props.get('deploygate.title', '')}: {decision} (record {shown})")
    failing = [c for c in record.testcases
               if c.outcome in ("failure", "error") and not c.classname.endswith(".decision")]
    for case in failing[:_SHOWN]:
        label = {"failure": "not met", "error": "evidence missing"}[case.outcome]
        _say(f"  {label}: {case.name}: {case.message}")
    if len(failing) > _SHOWN:
        _say(f"  ... and {len(failing) - _SHOWN} more in {shown}")
    reason = props.get("deploygate.reason")
    if reason:
        _say(f"  {reason}")
    # A PASS counts only as the gate of this phase and stage, evaluated now against the
    # reviewed thresholds, in a run that itself succeeded: a project's pytest configuration
    # (addopts, PYTEST_ADDOPTS) can add --gate-now or --gate-threshold to the hook's run.
    doubts = [
        *([f"it is a record of {props.get('deploygate.gate')!r}, not {gate!r}"]
          if props.get("deploygate.gate") != gate else []),
        *([f"it is of stage {props.get('deploygate.stage')!r}, not {stage!r}"]
          if props.get("deploygate.stage") != stage else []),
        *(["it is a replay (--gate-now), not an evaluation of now"]
          if REPLAY_PROPERTY in props else []),
        *([f"its thresholds were overridden ({props[THRESHOLD_OVERRIDES_PROPERTY]}), not the "
           "reviewed ones"] if THRESHOLD_OVERRIDES_PROPERTY in props else []),
        *([f"pytest exited {returncode}, not 0"] if returncode != 0 else []),
    ]
    if decision == "PASS" and not doubts:
        return 0
    why = f"its gate decided {decision}"
    if decision == "PASS":
        why += f", but {'; '.join(doubts)}"
    _say(f"deploygate: the advance of {phase} is blocked: {why}")
    return BLOCK

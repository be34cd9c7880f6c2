"""Issue 15's goals, each a ratio measured side by side, with bytecode writing off and on.

    python benchmarks/goals.py [--rounds 5] [--quick] [--only NAME ...] [--bytecode off|on|both]
                               [--before GIT_REF | --before OTHER_VENV/bin/python]
                               [--python VENV/bin/python]

Each version is measured as users run it: by default the working tree is installed into a
fresh virtual environment (``pip install .`` builds a wheel; pip compiles the bytecode at
install, as it does for every user, with or without ``PYTHONDONTWRITEBYTECODE``) together with
pytest-xdist and nothing else, so no other pytest plugin of the developer's environment (and
no editable install without bytecode) is measured on either side. ``--python`` measures an
existing interpreter instead (a developer's editable install, say).

Every goal runs its sides alternately (A B A B ...) in fresh processes, --rounds times (the
50,000-criterion and monorepo goals at most twice: they are long), and
prints the ratio of each round's pair as min / median / max. Sequential runs are compared by
CPU time (user + system of the process and the children it waited for, from ``wait4``), the
parallel row by wall time (CPU time cannot show what two workers gain). Peak memory is the
process's peak resident set (``ru_maxrss``).

Bytecode off is ``PYTHONDONTWRITEBYTECODE=1`` (how these machines run: no ``.pyc`` is written
for the project's own modules, every import of them compiles). Bytecode on points
``PYTHONPYCACHEPREFIX`` at a fresh directory and warms it with one unmeasured run of each
side, so the repository is left without ``__pycache__`` and an "off" run never reads a
``.pyc`` an "on" run wrote.

Goals (issue 15):

- ``yaml``: gate of 5,000 criteria / 5,000 items of pytest's YAML example (<= 1.0, CPU);
- ``gate12``: gate 12 on the bundled example (a git repository) minus pytest without ``--gate`` in
  a copy of the same project (the same configuration, no items)
  (<= +0.1 s CPU);
- ``linear``: marginal CPU per criterion 5,000 -> 50,000 over 500 -> 5,000 (<= 1.1), and peak
  memory per criterion 500 -> 5,000, gate over YAML example (<= 1.0);
- ``verdict``: ``deploygate verdict`` of the example's record minus ``python -c pass``
  (<= +0.06 s CPU), and with ``--allowed-signers`` (<= +0.1 s);
- ``idle``: 5,000 plain tests, plugin installed without --gate / ``-p no:deploygate``
  (<= 1.01, CPU);
- ``xdist``: (-n 2 / serial wall) of the 200-project monorepo over the same for as many plain
  test functions (<= 1.0: the gate gains from -n 2 at least what plain functions gain).

``--before REF``: the same goals also with the plugin at git revision REF (installed the same
way into its own fresh venv; or give that venv's python), its runs interleaved with this one's,
so that a before / after comparison sees the same load.

Only public tools: the interpreter, the stdlib, ``git`` and ``ssh-keygen``. Nothing in CI runs
this or fails on a number.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from run import BASE, REPO, big_gate, monorepo, plain_tests, yaml_items
from signing import git_repository

EXAMPLE = REPO / "examples" / "acme-api"
DEPLOYGATE = [str(Path(sys.executable).with_name("deploygate"))]
#: Exit codes a measured run may end with: pytest's 0/1/5 (5: no tests, the empty run);
#: verdict's decision codes 0-3 and 5 (4, "not trusted", means the setup is wrong).
ACCEPTED = {0, 1, 2, 3, 5}


@dataclass(frozen=True)
class Run:
    """One process to measure: its command line and where it runs."""

    command: Sequence[str]
    cwd: Path


@dataclass(frozen=True)
class Measured:
    cpu: float
    wall: float
    peak_kib: int


#: A small go-between that spawns the measured command and reports its rusage on the file
#: descriptor its first argument names. Linux
#: starts a child's peak-RSS count with the RSS of the process that forked it, so a command
#: forked straight from this script (tens of MB after building a 50,000-criterion spec) would
#: report this script's size, not its own; the go-between is a few MB.
LAUNCHER = """
import os, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
os.write(int(sys.argv[1]), f"{usage.ru_utime} {usage.ru_stime} {usage.ru_maxrss} {status}".encode())
"""


def measure(run: Run, env: dict[str, str]) -> Measured:
    """CPU (user + system, the process and its waited-for children), wall and peak RSS."""
    report_read, report_write = os.pipe()
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, str(report_write),
                                *run.command], cwd=run.cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               pass_fds=(report_write,))
    os.close(report_write)
    assert process.stderr is not None
    stderr = process.stderr.read()
    process.wait()
    wall = time.perf_counter() - start
    with os.fdopen(report_read, "rb") as report:
        fields = report.read().split()
    if len(fields) != 4:
        raise SystemExit(f"{' '.join(run.command)} (in {run.cwd}): no measurement:\n"
                         f"{stderr.decode()[-3000:]}")
    user, system, peak, status = float(fields[0]), float(fields[1]), int(fields[2]), int(fields[3])
    code = os.waitstatus_to_exitcode(status)
    if code not in ACCEPTED:
        raise SystemExit(f"{' '.join(run.command)} (in {run.cwd}) exited "
                         f"{code}:\n{stderr.decode()[-3000:]}")
    return Measured(user + system, wall, peak)


@dataclass
class Goal:
    """Sides measured alternately; ``score`` turns one round's measurements into a number."""

    name: str
    label: str
    target: str
    sides: dict[str, Run]
    score: Callable[[dict[str, Measured]], float]
    unit: str = ""
    #: Rounds at most (the 50,000-criterion and monorepo goals are long).
    max_rounds: int = 99
    #: Goals scored from this goal's runs (not run by themselves).
    companions: list[Goal] = field(default_factory=list)
    scores: dict[str, list[float]] = field(default_factory=dict)


def environment(mode: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if mode == "off":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def with_python(run: Run, python: str) -> Run:
    """``run`` with another interpreter (and the ``deploygate`` script beside it)."""
    first = run.command[0]
    if first == sys.executable:
        return Run([python, *run.command[1:]], run.cwd)
    if first == DEPLOYGATE[0]:
        return Run([str(Path(python).with_name("deploygate")), *run.command[1:]], run.cwd)
    return run


def fresh_install(root: Path, name: str, source: Path) -> str:
    """A new venv with ``source`` and pytest-xdist installed by pip; its interpreter."""
    venv = root / f"venv-{name}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(source), "pytest-xdist"], check=True)
    return python


def source_at(root: Path, ref: str) -> Path:
    """The repository's files at git revision ``ref`` (``git archive``), for installing."""
    target = root / f"source-{ref.replace('/', '-')}"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def interpreter(root: Path, name: str, given: str | None) -> str:
    """``given`` when it is an interpreter, else a fresh install of the working tree
    (``given`` None) or of the git revision ``given``."""
    if given and Path(given).is_file() and os.access(given, os.X_OK):
        return given
    source = REPO if given is None else source_at(root, given)
    print(f"  installing {name} ({given or 'working tree'}) into a fresh venv", file=sys.stderr,
          flush=True)
    return fresh_install(root, name, source)


def run_goal(goal: Goal, mode: str, rounds: int, cache: Path, after: str,
             before: str | None) -> None:
    env = environment(mode, cache)
    versions = {"after": {name: with_python(run, after) for name, run in goal.sides.items()}}
    if before:
        versions["before"] = {name: with_python(run, before) for name, run in goal.sides.items()}
    if mode == "on":  # warm the bytecode cache: the measured runs read what this one wrote
        for sides in versions.values():
            for side in sides.values():
                measure(side, env)
    for index in range(min(rounds, goal.max_rounds)):
        for version, sides in versions.items():
            order = list(sides.items())
            if index % 2:  # alternate which side goes first, so drift hits both alike
                order.reverse()
            results = {name: measure(side, env) for name, side in order}
            for scored in (goal, *goal.companions):
                scored.scores.setdefault(f"{version} {mode}", []).append(scored.score(results))


def cpu_ratio(a: str, b: str) -> Callable[[dict[str, Measured]], float]:
    return lambda m: m[a].cpu / m[b].cpu


def cpu_extra(a: str, b: str) -> Callable[[dict[str, Measured]], float]:
    return lambda m: m[a].cpu - m[b].cpu


# -- workloads ---------------------------------------------------------------------------------

def example_repository(root: Path, name: str) -> Path:
    """A copy of the bundled example as a git repository (the release a gate run reads)."""
    example = root / name
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("gate-records"))
    git_repository(example)
    return example


def example_with_records(root: Path, python: str) -> tuple[Path, Path]:
    """The example with gate 12 run once signed, and its allowed signers file: what
    ``deploygate verdict`` reads in a deploy job."""
    example = example_repository(root, "acme-api-signed")
    key = root / "gate-signing-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                   check=True, capture_output=True)
    public = key.with_suffix(".pub").read_text().split()
    allowed = root / "allowed_signers"
    allowed.write_text(f'ci@bench.example namespaces="deploygate" {public[0]} {public[1]}\n')
    # (A signing run imports no code of the checkout: -P, --noconftest, -p no:python.)
    subprocess.run([python, "-P", *BASE[1:], "--noconftest", "-p", "no:python", "--gate=12",
                    f"--gate-sign-key={key}"], cwd=example,
                   capture_output=True)
    record = example / "gate-records" / "GATE-12.xml"
    if not record.is_file():
        raise SystemExit(f"gate 12 wrote no record in {example}")
    return example, allowed


def goals(root: Path, quick: bool, wanted: set[str], projects: int, python: str
          ) -> list[Goal]:
    size = 1000 if quick else 5000
    found: list[Goal] = []

    def want(name: str) -> bool:
        return not wanted or name in wanted

    if want("yaml"):
        gate, yaml_dir = big_gate(root, size), yaml_items(root, size)
        found.append(Goal("yaml", f"gate {size} criteria / {size} YAML-example items (CPU)",
                          "<= 1.0", {"gate": Run([*BASE, "--gate=20"], gate),
                                     "yaml": Run(BASE, yaml_dir)}, cpu_ratio("gate", "yaml")))
    if want("gate12") or want("verdict"):
        example, allowed = example_with_records(root, python)
        record = str(example / "gate-records" / "GATE-12.xml")
        # The empty run is pytest in a copy of the same project without --gate: the same
        # configuration file (pyproject.toml, which makes pytest load tomllib), no items.
        empty = example_repository(root, "acme-api-empty")
        if want("gate12"):
            found.append(Goal("gate12", "gate 12 on the example - empty pytest run (CPU s)",
                              "<= +0.10", {"gate": Run([*BASE, "--gate=12"],
                                                       example_repository(root, "acme-api")),
                                           "empty": Run(BASE, empty)},
                              cpu_extra("gate", "empty"), unit="s"))
        if want("verdict"):
            bare = Run([sys.executable, "-c", "pass"], example)
            found.append(Goal("verdict", "deploygate verdict - python -c pass (CPU s)",
                              "<= +0.06", {"verdict": Run([*DEPLOYGATE, "verdict", record],
                                                          example), "bare": bare},
                              cpu_extra("verdict", "bare"), unit="s"))
            found.append(Goal("verdict-signed", "verdict --allowed-signers - python -c pass "
                              "(CPU s)", "<= +0.10",
                              {"verdict": Run([*DEPLOYGATE, "verdict", record,
                                               "--allowed-signers", str(allowed)], example),
                               "bare": bare}, cpu_extra("verdict", "bare"), unit="s"))
    if want("linear"):
        small, large = size // 10, size * 10
        gates = {n: big_gate(root / "linear", n) for n in (small, size, large)}
        (gates[large] / "pytest.ini").write_text(
            "[pytest]\ndeploygate_max_spec_size = 16000000\n")
        yamls = {n: yaml_items(root / "linear", n) for n in (small, size)}

        def marginal(m: dict[str, Measured]) -> float:
            first = (m[f"gate{size}"].cpu - m[f"gate{small}"].cpu) / (size - small)
            second = (m[f"gate{large}"].cpu - m[f"gate{size}"].cpu) / (large - size)
            return second / first

        def memory(m: dict[str, Measured]) -> float:
            gate = m[f"gate{size}"].peak_kib - m[f"gate{small}"].peak_kib
            yaml = m[f"yaml{size}"].peak_kib - m[f"yaml{small}"].peak_kib
            return gate / yaml

        sides = {f"gate{n}": Run([*BASE, "--gate=20"], path) for n, path in gates.items()}
        sides.update({f"yaml{n}": Run(BASE, path) for n, path in yamls.items()})
        linear = Goal("linear", f"CPU/criterion {size}->{large} over {small}->{size}",
                      "<= 1.10", sides, marginal, max_rounds=2)
        linear.companions.append(Goal("memory", f"peak memory/criterion {small}->{size}, "
                                      "gate / YAML example", "<= 1.0", {}, memory))
        found.append(linear)
    if want("idle"):
        plain = plain_tests(root, size)
        found.append(Goal("idle", f"{size} plain tests, installed idle / -p no:deploygate "
                          "(CPU)", "<= 1.01",
                          {"idle": Run(BASE, plain),
                           "off": Run([*BASE, "-p", "no:deploygate"], plain)},
                          cpu_ratio("idle", "off")))
    if want("xdist"):
        projects = 20 if quick else projects
        mono = monorepo(root, projects)
        items = plain_tests(root / "xdist", (projects * 68 // 500 + 1) * 500)
        monorepo_gate = [*BASE, "--gate=12", "--gate-project=all"]

        def parallel_gain(m: dict[str, Measured]) -> float:
            return (m["gate-n2"].wall / m["gate"].wall) / (m["plain-n2"].wall / m["plain"].wall)

        found.append(Goal("xdist", f"(-n 2 / serial) {projects}-project monorepo over the "
                          "same for plain tests (wall)", "<= 1.0",
                          {"gate": Run(monorepo_gate, mono),
                           "gate-n2": Run([*monorepo_gate, "-n", "2"], mono),
                           "plain": Run(BASE, items),
                           "plain-n2": Run([*BASE, "-n", "2"], items)}, parallel_gain,
                          max_rounds=2))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller workloads, 2 rounds")
    parser.add_argument("--only", nargs="*", default=[],
                        help="yaml gate12 verdict linear idle xdist")
    parser.add_argument("--bytecode", choices=("off", "on", "both"), default="both")
    parser.add_argument("--projects", type=int, default=200,
                        help="monorepo projects of the xdist goal (default 200)")
    parser.add_argument("--before", default=None, metavar="REF_OR_PYTHON",
                        help="also measure the plugin at this git revision (or this venv's "
                             "python), interleaved (before / after)")
    parser.add_argument("--python", default=None, metavar="PYTHON",
                        help="measure this interpreter's install instead of a fresh venv")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    modes = ["off", "on"] if args.bytecode == "both" else [args.bytecode]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "linear").mkdir()
        (root / "xdist").mkdir()
        after = interpreter(root, "after", args.python)
        before = interpreter(root, "before", args.before) if args.before else None
        found = goals(root, args.quick, set(args.only), args.projects, after)
        for mode in modes:  # all "off" runs first: no .pyc of an "on" run exists yet
            cache = root / f"pycache-{mode}"
            for goal in found:
                run_goal(goal, mode, rounds, cache, after, before)
                print(f"  measured {goal.name} (bytecode {mode})", file=sys.stderr, flush=True)
    found = [scored for goal in found for scored in (goal, *goal.companions)]
    columns = [f"{version} {mode}" for mode in modes
               for version in (("before", "after") if args.before else ("after",))]
    print(f"{os.uname().nodename}, Python {sys.version.split()[0]}, up to {rounds} rounds, "
          f"load {os.getloadavg()[0]:.2f} at the end; after: "
          f"{args.python or 'working tree, fresh venv'}; before: {args.before or '-'}")
    width = max(len(goal.label) for goal in found)
    print(f"{'goal':<{width}}  {'target':<9}" + "".join(
        f"  {column.replace(' ', ', bytecode '):<24}"
        for column in columns))
    for goal in found:
        cells = []
        for column in columns:
            values = goal.scores[column]
            low, mid, high = min(values), statistics.median(values), max(values)
            form = "{:+.3f}" if goal.unit else "{:.3f}"
            cells.append(" / ".join(form.format(v) for v in (low, mid, high)))
        print(f"{goal.label:<{width}}  {goal.target:<9}" + "".join(f"  {c:<24}" for c in cells))
    print("each cell: min / median / max over the rounds")


if __name__ == "__main__":
    main()

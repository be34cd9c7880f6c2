"""The cost of signing: a signed gate run against the same run unsigned, as a ratio.

    python benchmarks/signing.py [--repeat 5] [--quick]

Rows: gate 12 on the bundled example (a real git repository, an ssh-keygen Ed25519 key),
pre stage and whole gate; and a 5,000-criterion gate, where the per-criterion part of
signing (reading the record back, building the predicate, hashing) shows. Both sides run
alternately in fresh pytest processes, best of --repeat, compared by CPU time (user +
system) as in run.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from run import BASE, REPO, best_pair, big_gate

EXAMPLE = REPO / "examples" / "acme-api"


def git_repository(path: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.com"}
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "commit", "-q", "-m", "release"]):
        subprocess.run(command, cwd=path, check=True, env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one round, 1,000 criteria")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    size = 1000 if args.quick else 5000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        key = root / "gate-signing-key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True, capture_output=True)
        example = root / "acme-api"
        shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("gate-records"))
        git_repository(example)
        sign = f"--gate-sign-key={key}"
        for label, args_ in (("gate 12, pre stage (27 criteria)", ["--gate=12",
                                                                    "--gate-stage=pre"]),
                             ("gate 12, whole gate (68 criteria)", ["--gate=12"])):
            # Both as a signing run must be started: no code of the checkout imported.
            command = [BASE[0], "-P", *BASE[1:], "--noconftest", "-p", "no:python", *args_]
            signed, unsigned = best_pair(([*command, sign], example), (command, example),
                                         repeat)
            rows.append((f"{label}: signed / unsigned", f"{signed:.2f}s / {unsigned:.2f}s",
                         f"{signed / unsigned:.3f}"))
        gate = big_gate(root, size)
        git_repository(gate)
        command = [BASE[0], "-P", *BASE[1:], "--noconftest", "-p", "no:python", "--gate=20"]
        signed, unsigned = best_pair(([*command, sign], gate), (command, gate), repeat)
        rows.append((f"gate: {size} criteria: signed / unsigned",
                     f"{signed:.2f}s / {unsigned:.2f}s", f"{signed / unsigned:.3f}"))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'CPU time':<18} ratio")
    for name, measured, ratio in rows:
        print(f"{name:<{width}}  {measured:<18} {ratio}")


if __name__ == "__main__":
    main()

"""Network evidence is fetched concurrently: N health URLs each delayed D ms, evaluated by a
real gate run, against the serial sum N x D. Prints the ratio (lower is better).

    python benchmarks/network_concurrency.py [--urls 20] [--delay-ms 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servers import Service

SPEC_HEAD = """spec_version: 1
gate: 12
id: GATE-12
title: Network benchmark
phase: 12-production
decision: [{id: health, title: Health}]
sections:
  - id: health
    title: Health
    stage: post
    decision: health
    criteria:
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--urls", type=int, default=20)
    parser.add_argument("--delay-ms", type=int, default=200)
    args = parser.parse_args()
    with Service() as service, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".isdlc").mkdir()
        (root / ".isdlc" / "state.json").write_text('{"phases": {}}')
        (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
        (root / "gate_specs").mkdir()
        criteria = "".join(
            f"      - {{id: url-{i}, text: Endpoint {i} healthy, check: {{kind: http, "
            f"url: '{service.url}/delay/{args.delay_ms + i}', retries: 0}}}}\n"
            for i in range(args.urls))
        baseline = "".join(
            f"      - {{id: url-{i}, text: Endpoint {i} healthy, check: {{kind: state, "
            f"path: phases}}}}\n" for i in range(args.urls))
        command = [sys.executable, "-m", "pytest", "--gate=12", "-q", "-p", "no:cacheprovider"]
        spec = root / "gate_specs" / "12-bench.yaml"
        # Baseline in the same invocation: the same number of items with no network, so
        # pytest's start-up is measured and taken out of the network time.
        timings = {}
        for name, body in (("baseline", baseline), ("network", criteria)):
            spec.write_text(SPEC_HEAD + body)
            start = time.perf_counter()
            done = subprocess.run(command, cwd=root, capture_output=True, text=True)
            timings[name] = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(done.stdout + done.stderr)
        serial = args.urls * args.delay_ms / 1000
        network = timings["network"] - timings["baseline"]
        print(f"{args.urls} URLs x {args.delay_ms} ms, serial sum {serial:.2f} s")
        print(f"whole gate run {timings['network']:.2f} s, same items without network "
              f"{timings['baseline']:.2f} s")
        print(f"network time {network:.2f} s, ratio network/serial {network / serial:.2f}")


if __name__ == "__main__":
    main()

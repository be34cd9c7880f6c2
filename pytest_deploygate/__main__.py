"""``python -m pytest_deploygate``: the deploygate command.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

import os
import sys

# ``python -m`` put the current folder first on sys.path: in a checkout (the deploy job runs
# `verdict` there), a committed yaml.py or defusedxml.py would be imported in place of the
# installed one and could print PASS and exit 0. Only installed code decides.
if not sys.flags.safe_path and sys.path and \
        os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.curdir):
    del sys.path[0]

from pytest_deploygate.cli.main import console_main

sys.exit(console_main())

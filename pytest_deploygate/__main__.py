"""``python -m pytest_deploygate``: the deploygate command.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

import sys

from pytest_deploygate.cli.main import console_main

sys.exit(console_main())

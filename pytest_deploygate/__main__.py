"""``python -m pytest_deploygate``: the deploygate command."""

import sys

from pytest_deploygate.cli.main import main

sys.exit(main())

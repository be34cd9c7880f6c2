"""pytest-deploygate: deployment-gate checklists as pytest suites.

Run ``pytest --gate=12`` in an iSDLC project: every criterion of the gate becomes a pytest
item checked against evidence, and a JUnit gate record is written to ``gate-records/``.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

__version__ = "0.1.0"

"""The ``deploygate`` command line.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

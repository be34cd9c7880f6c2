"""Gate records: the JUnit XML record, the markdown decision record, and reading them back.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

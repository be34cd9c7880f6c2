"""From item outcomes to the gate decision: what happened to each item, and the one ranking
(PASS, FAIL, ROLLBACK, SKIPPED, INCOMPLETE) with its Gate Decision rows.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

"""Reading evidence: the project's ``deploygate.yaml``, git (authorship, signatures, the
release identity), HTTP and Prometheus, and observation windows.

Readers return results or raise one-line errors; none of them decides a criterion.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

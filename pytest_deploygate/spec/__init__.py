"""Gate specs: the model, loading and validating YAML with line numbers, finding the spec of
a gate (user, project checklists, built-ins), and the rules a spec sets for its records.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

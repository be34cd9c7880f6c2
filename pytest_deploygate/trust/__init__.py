"""Who may say a criterion holds: sign-offs attributed by git (``attestations.jsonl`` and
the approvers file) and governed, expiring waivers.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

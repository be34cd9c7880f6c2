"""The iSDLC framework's conventions: its two phase layouts, its ``state.json``, and how
a gate is named (number, ``GATE-NN`` or phase key).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

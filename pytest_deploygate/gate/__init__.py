"""A gate run: settings, the plan of gates and items per project, evaluating items,
prerequisites and the pre/post stage binding, and what a decided gate writes back.

Independent of pytest's nodes: the plugin drives it, and so can the ``deploygate`` command.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

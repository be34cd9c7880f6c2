"""The plugin's version, where every module can read it without importing the public API.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

__version__ = "0.1.0"

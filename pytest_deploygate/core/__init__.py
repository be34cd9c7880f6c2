"""Foundations every stage uses: errors, redaction, time, paths, size limits, atomic
writes, YAML/JSON documents with their schemas, check results and the outcome vocabulary,
measurements, and the pure trust rules of identity.

Nothing here imports from another package of the plugin.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

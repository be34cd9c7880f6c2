"""Signed gate decisions: in-toto attestations in DSSE envelopes, and their verification.

A gate record is a file anyone with write access can replace; an attestation signed by a key
the pipeline controls says who ran the gate. Everything here imports ``cryptography`` (and
jsonschema) lazily: only a run that signs or verifies pays for them.

Modules: :mod:`.keys` (private and public keys), :mod:`.dsse` (the envelope),
:mod:`.statement` (the in-toto statement and its predicate), :mod:`.allowed_signers` (git's
allowed-signers format), :mod:`.verify` (checking an attestation against a record and a
release). A gate run signs through :mod:`pytest_deploygate.gate.sign_records` and checks a
signed pre stage through :mod:`pytest_deploygate.gate.stage_signature`; ``deploygate verdict``
verifies through :mod:`pytest_deploygate.cli.verdict_signing`.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path

#: What an attestation file is called beside its record.
ENVELOPE_SUFFIX = ".intoto.json"


class SigningError(ValueError):
    """A key, envelope, statement or allowed-signers file that cannot be used: one clear line."""


def envelope_path(record: Path) -> Path:
    """``GATE-12-pre.xml`` -> ``GATE-12-pre.intoto.json`` beside it (here, not in
    :mod:`.verify`, so that an unsigned run removes a stale one without loading the verifier)."""
    name = record.name.removesuffix(".xml")
    return record.with_name(name + ENVELOPE_SUFFIX)

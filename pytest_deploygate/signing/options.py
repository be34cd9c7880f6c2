"""Which key signs a gate run and which signers a post stage accepts, from options and env.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

KEY_ENV = "DEPLOYGATE_SIGNING_KEY"


def add_signing_options(group: Any) -> None:
    """``--gate-sign-key`` and ``--gate-allowed-signers`` in the deploygate option group."""
    group.addoption("--gate-sign-key", metavar="PATH", default=None,
                    help=f"Sign each record: write GATE-NN[-stage].intoto.json, an in-toto "
                         f"attestation in a DSSE envelope (OpenSSH or PEM Ed25519 or ECDSA "
                         f"P-256 private key; default: ${KEY_ENV}).")
    group.addoption("--gate-allowed-signers", metavar="FILE", default=None,
                    help="Post stage: accept the pre stage only through an attestation signed "
                         "by a key of this git allowed-signers file (default: deploygate.yaml "
                         "signing.allowed_signers, else the signing key's public half).")


def signing_paths(config: Any) -> tuple[Path | None, Path | None]:
    """(signing key, allowed-signers file) as paths; a replay that would sign is refused.

    Raises ``pytest.UsageError``: signing a replay (``--gate-now``) would attest to a decision
    about the past with today's key, which is exactly what a forger wants.
    """
    import pytest

    key = config.getoption("gate_sign_key") or os.environ.get(KEY_ENV) or None
    allowed = config.getoption("gate_allowed_signers") or None
    if key and config.getoption("gate_now"):
        source = "--gate-sign-key" if config.getoption("gate_sign_key") else f"${KEY_ENV}"
        raise pytest.UsageError(f"deploygate: {source}: a replay (--gate-now) is never signed; "
                                f"drop --gate-now or unset {source}")
    return (_absolute(key), _absolute(allowed))


def _absolute(value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path.cwd() / path

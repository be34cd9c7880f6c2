"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1).

The signature covers the pre-authentication encoding (PAE) of payload type and payload, never
the JSON of the envelope, so what is verified is exactly the payload bytes that are then
parsed. Parsing is strict: duplicate JSON keys, unknown fields of the wrong type or bad base64
are refused, so two readers can never see different payloads in one envelope.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.signing import SigningError
from pytest_deploygate.signing.keys import PrivateKey, PublicKey

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: A gate signs with one key; a few more allow co-signing, many only cost verification time.
MAX_SIGNATURES = 16


def pae(payload_type: str, payload: bytes) -> bytes:
    """``DSSEv1 SP len(type) SP type SP len(body) SP body`` (lengths in ASCII decimal)."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@value_class(frozen=True)
class Signature:
    """One signature of an envelope; ``keyid`` is a hint, never trusted."""

    keyid: str
    sig: bytes


@value_class(frozen=True)
class Envelope:
    """A parsed envelope."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> bytes:
        """The envelope as a JSON document (one object, newline-terminated)."""
        doc = {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "signatures": [{"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                           for s in self.signatures],
        }
        return (json.dumps(doc, indent=2) + "\n").encode("utf-8")

    def signed_by(self, keys: Sequence[PublicKey]) -> tuple[PublicKey, Signature] | None:
        """The first (key, signature) pair that verifies, trying keyid matches first."""
        message = pae(self.payload_type, self.payload)
        for signature in self.signatures:
            # The keyid only orders the attempts: a key is accepted by its signature alone.
            ordered = sorted(keys, key=lambda k: k.keyid != signature.keyid)
            for key in ordered:
                if key.verifies(signature.sig, message):
                    return key, signature
        return None


def sign(payload_type: str, payload: bytes, key: PrivateKey) -> Envelope:
    """An envelope of ``payload`` signed by ``key``."""
    signature = Signature(key.public.keyid, key.sign(pae(payload_type, payload)))
    return Envelope(payload_type, payload, (signature,))


def parse_envelope(data: bytes, where: str) -> Envelope:
    """Parse an envelope; raise :class:`SigningError` naming ``where`` and the problem."""
    doc = load_json_strict(data, where)
    if not isinstance(doc, dict):
        raise SigningError(f"{where}: not a DSSE envelope (expected a JSON object)")
    unknown = set(doc) - {"payloadType", "payload", "signatures"}
    if unknown:
        raise SigningError(f"{where}: not a DSSE envelope (unknown field "
                           f"{sorted(unknown)[0]!r})")
    payload_type = doc.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise SigningError(f"{where}: no payloadType")
    payload = _b64(doc.get("payload"), f"{where}: payload")
    raw = doc.get("signatures")
    if not isinstance(raw, list) or not raw:
        raise SigningError(f"{where}: no signatures")
    if len(raw) > MAX_SIGNATURES:  # each one is tried with every allowed key
        raise SigningError(f"{where}: {len(raw)} signatures, more than the {MAX_SIGNATURES} "
                           "a gate attestation can carry")
    signatures = []
    for number, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or set(entry) - {"keyid", "sig"} or "sig" not in entry:
            raise SigningError(f"{where}: signature {number} is not {{keyid, sig}}")
        keyid = entry.get("keyid", "")
        if not isinstance(keyid, str):
            raise SigningError(f"{where}: signature {number}: keyid is not a string")
        signatures.append(Signature(keyid, _b64(entry["sig"], f"{where}: signature {number}")))
    return Envelope(payload_type, payload, tuple(signatures))


def _b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise SigningError(f"{where} is not a base64 string")
    # DSSE allows standard and URL-safe base64; anything else is refused, not skipped.
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SigningError(f"{where} is not valid base64") from None


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(repr(key))
        out[key] = value
    return out


def load_json_strict(data: bytes, where: str) -> Any:
    """JSON with duplicate keys refused (shared by the statement reader)."""
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise SigningError(f"{where}: not UTF-8") from None
    except _Duplicate as exc:
        raise SigningError(f"{where}: key {exc} appears twice in one object") from None
    except RecursionError:  # a hand-made "[[[[..." must not end in a traceback
        raise SigningError(f"{where}: not a DSSE envelope (JSON nested too deeply)") from None
    except ValueError as exc:
        raise SigningError(f"{where}: not JSON ({exc})") from None

"""Red-team regressions: attacks that once broke the gate, each through the public surface."""

from __future__ import annotations

import json

import pytest
from test_hostile_evidence import NOW, api, assert_no_secrets, files  # noqa: F401

from conftest import GateProject, custom_gate, write_config
from servers import ScriptedApi

# -- C: a password holding "/", "?" or "#" unencoded ends the host early --------------------------

@pytest.mark.parametrize("url", [
    "http://alice:S3cretPW/x@127.0.0.1:1/h?access_token=T0kenValue9",
    "http://alice:S3cretPW#x@127.0.0.1:1/h",
    "http://alice:S3cretPW?x@127.0.0.1:1/h",
    "http://alice:S3/cretPW@127.0.0.1:1/h",
])
def test_unencoded_password_characters_never_show_the_password(files: GateProject,  # noqa: F811
                                                               url: str) -> None:
    custom_gate(files, f'- {{id: c, text: C, check: {{kind: http, url: "{url}", retries: 0, '
                       'timeout: 2}}')
    result = files.run("--gate=12", "-rA")
    case = files.record().case("c")
    assert case["outcome"] in ("failure", "error"), case
    assert "percent-encode" in case["message"]
    assert_no_secrets(files, result, ("S3cretPW", "S3/cretPW", "T0kenValue9", "alice"))


# -- C: a header value http.client refuses is quoted in its error ---------------------------------

@pytest.mark.parametrize("token", ["T0kenValue9\n", "T0kenValue9\r\nX: y", "T0kenValue9\u00e9"])
def test_unsendable_bearer_token_is_not_quoted(files: GateProject, api: ScriptedApi,  # noqa: F811
                                               monkeypatch: pytest.MonkeyPatch,
                                               token: str) -> None:
    api.answers["q"] = (200, json.dumps({"status": "success", "data": {
        "resultType": "vector", "result": []}}).encode())
    monkeypatch.setenv("PROM_TOKEN", token)
    write_config(files, f"prometheus: {{url: '{api.url}/q', bearer_token_env: PROM_TOKEN}}\n")
    custom_gate(files, "- {id: c, text: C, check: {kind: prometheus, query: up, min: 1}}")
    result = files.run("--gate=12", f"--gate-now={NOW}", "-rA")
    case = files.record().case("c")
    assert case["type"] == "evidence-missing", case
    assert "'Authorization' has a value that cannot be sent" in case["message"]
    assert_no_secrets(files, result, ("T0kenValue9",))

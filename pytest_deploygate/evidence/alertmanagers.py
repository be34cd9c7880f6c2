"""The Alertmanagers a Prometheus sends its alerts to (``/api/v1/alertmanagers``).

Alerting rules that fire reach nobody unless Prometheus has an Alertmanager to send them to.
The API lists ``activeAlertmanagers`` (discovered, and kept by the relabelling) and
``droppedAlertmanagers`` (discovered, then dropped by ``alert_relabel_configs`` or a
``relabel_configs`` of the ``alertmanagers`` section): only the active ones receive alerts.

What the API does not say: whether an active Alertmanager answers. Prometheus (2.x, 3.x) lists
a static target that nothing listens on exactly as it lists one that is up; it learns of a
failure only when it sends an alert. The gate cannot probe the URLs itself either: they are
resolved from Prometheus's network (``alertmanager:9093`` in a cluster), which the CI machine
often cannot reach. So an active entry counts; a reachability check of the Alertmanager is a
separate ``http`` criterion against its ``/-/healthy`` where the CI machine can reach it.

Right after Prometheus starts, discovery has not reported yet (about five seconds) and the
list is empty: that is no Alertmanager, never a pass.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from typing import Any

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.promql import Endpoint, get_json


@value_class(frozen=True)
class Alertmanagers:
    """The Alertmanager URLs Prometheus reports, active (alerts go there) and dropped."""

    active: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


def alertmanagers(endpoint: Endpoint) -> Alertmanagers | str:
    """The active and dropped Alertmanagers, or what is wrong with the answer.

    The answer's shape is checked in full: an entry without a URL is not counted as an
    Alertmanager (nor skipped), it makes the answer unusable.
    """
    data = get_json(endpoint, "/api/v1/alertmanagers", {})
    if isinstance(data, str):
        # Query frontends (Thanos Query, some proxies) serve the rules but not this API: the
        # alerts are sent by another server, which is the one to ask.
        return data + ("; this server does not serve the Alertmanagers API: point "
                       "prometheus.url at the Prometheus (or ruler) that sends the alerts"
                       if ": HTTP 404" in data else "")
    shape = _read(data)
    return shape if not isinstance(shape, str) else \
        f"{endpoint.show('/api/v1/alertmanagers')}: {shape}"


def _read(data: Any) -> Alertmanagers | str:
    if not isinstance(data, dict):
        return "alertmanagers answer has no data object"
    found: dict[str, tuple[str, ...]] = {}
    for field in ("activeAlertmanagers", "droppedAlertmanagers"):
        entries = data.get(field, [] if field == "droppedAlertmanagers" else None)
        if not isinstance(entries, list):
            return f"alertmanagers answer: {field} is {_brief(entries)}, not a list"
        urls = []
        for index, entry in enumerate(entries):
            url = entry.get("url") if isinstance(entry, dict) else None
            if not isinstance(url, str) or not url.strip():
                return f"alertmanagers answer: {field}[{index}] is {_brief(entry)}, not an " \
                       "Alertmanager with a url"
            urls.append(url)
        found[field] = tuple(urls)
    return Alertmanagers(found["activeAlertmanagers"], found["droppedAlertmanagers"])


def _brief(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."

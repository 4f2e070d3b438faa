"""The Prometheus exposition parses as the text format, and every metric the Grafana dashboard
queries is one the server exports."""
import json
import re
from pathlib import Path

import requests

from conftest import ROOT
from test_compatible_endpoints import token

DASHBOARD = ROOT / "Examples" / "grafana" / "model-manager-dashboard.json"


def exported_families(text):
    families = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            families.add(name)
        elif line and not line.startswith("#"):
            assert re.match(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfa]+$', line), f"not a sample: {line}"
    return families


def test_every_dashboard_metric_is_exported(server):
    # One call of each kind so that every family has a sample.
    requests.post(server.http_url + "/v1/chat/completions", timeout=30, headers={"Authorization": f"Bearer {token()}"},
                  json={"model": "openai/gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    requests.post(server.http_url + "/v1/chat/completions", timeout=30, headers={"Authorization": f"Bearer {token()}"},
                  json={"model": "openai/gpt-unknown-model", "messages": [{"role": "user", "content": "hi"}]})
    requests.post(server.http_url + "/v1/chat/completions", timeout=30, headers={"Authorization": "Bearer nope"},
                  json={"model": "openai/gpt-4o-mini", "messages": []})
    scraped = requests.get(server.http_url + "/metrics", timeout=10)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = exported_families(scraped.text)

    dashboard = json.loads(DASHBOARD.read_text())
    queried = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            queried |= set(re.findall(r"\bmodel_manager_[a-z_]+", target["expr"]))
    assert queried, "the dashboard queries no metric"
    histogram_parts = ("_bucket", "_sum", "_count")
    for name in sorted(queried):
        family = next((name[: -len(part)] for part in histogram_parts if name.endswith(part)), name)
        assert family in families, f"the dashboard queries {name}, which /metrics does not export"

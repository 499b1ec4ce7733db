"""Alert rules and the dashboard, checked by promtool and against their own conventions."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[1]

PROMETHEUS = DEPLOY / "monitoring" / "prometheus"
DASHBOARD = DEPLOY / "monitoring" / "grafana" / "dashboards" / "antifragile-fleet.json"
ALERTS = {
    "TaskQueueBacklogHigh",
    "TrainingWaitingForGPU",
    "WorkerDisconnected",
    "WorkerKindMissing",
    "MLTrainingFailures",
    "OpenAIRateLimited",
    "HighAPICost",
}


def promtool(tool: Callable[[str], str], *args: str) -> str:
    result = subprocess.run(
        [tool("promtool"), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_rules_are_valid_and_each_alert_has_unit_tests(tool: Callable[[str], str]) -> None:
    assert f"SUCCESS: {len(ALERTS)} rules found" in promtool(tool, "check", "rules", "alerts.yml")
    tested = (PROMETHEUS / "alerts_test.yml").read_text()
    for alert in ALERTS:
        assert f"alertname: {alert}" in tested


def test_rule_unit_tests_show_each_alert_firing_and_not(tool: Callable[[str], str]) -> None:
    assert "SUCCESS" in promtool(tool, "test", "rules", "alerts_test.yml")


def test_prometheus_config_is_valid(tool: Callable[[str], str]) -> None:
    promtool(tool, "check", "config", "--syntax-only", "prometheus.yml")


def test_dashboard_panels_query_prometheus_through_the_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "antifragile-fleet"
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"])

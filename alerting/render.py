"""Notification texts: one-line summaries, the email (plain text + HTML) and the Slack block message.

Everything is rendered from the outbox payload alone (alerts as plain dicts), so a message renders the same after
a restart and without the inventory. Each alert names the line, carrier and circuit id, department, current value
and contracted capacity, since when, and links to the line's Grafana dashboard.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from typing import Any

from linewatch.choices import AlertRuleKind, AlertScope, Severity

MAX_LISTED = 100  # alerts detailed per section of an email (a dead collector can make thousands at once)


def format_bps(bps: float) -> str:
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= scale:
            value = bps / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{bps:.0f} bit/s"


def format_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def format_time(t_s: float) -> str:
    return dt.datetime.fromtimestamp(t_s, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def summary(alert: Mapping[str, Any]) -> str:
    """One line of human text for an alert dict (``kind``, ``state``, ``value``, ``labels``, ``info``)."""
    kind = AlertRuleKind(alert["kind"])
    labels, info = alert["labels"], alert.get("info", {})
    value = alert.get("value")
    name = labels.get("line", "?")
    resolved = alert["state"] != "firing" and alert["state"] != "pending"
    if kind is AlertRuleKind.UTILIZATION:
        cap = format_bps(info.get("capacity_bps", 0))
        val = "n/a" if value is None else f"{value:.1f} %"
        if resolved:
            return f"{name} back to {val} of its contracted {cap}"
        return (f"{name} at {val} of its contracted {cap} (warning at {info.get('warning'):g} %, "
                f"sustained {format_duration(info.get('for_s', 0))})")
    if kind is AlertRuleKind.ERROR_RATE:
        val = "n/a" if value is None else f"{value:.2f}/s"
        what = " + ".join(info.get("fields", [])) or "errors"
        return f"{name} {what} {'back to ' if resolved else 'at '}{val} (warning at {info.get('warning'):g}/s)"
    if kind is AlertRuleKind.LINE_DOWN:
        if resolved:
            return f"{name} is up again"
        return f"{name} is down (oper down, admin up) for {info.get('polls')} consecutive polls"
    if kind is AlertRuleKind.MEMBER_DOWN:  # the newest rule kind says it in Korean too (the NOC's language)
        if resolved:
            return (f"{name}: every member interface is up again (or the whole line is down: see line_down) / "
                    f"회선 {name}: 구성 인터페이스 복구 (또는 회선 전체 장애: line_down 참조)")
        count = 1 if value is None else int(value)
        members = "a member interface" if count == 1 else f"{count} member interfaces"
        return (f"{name} has {members} down (oper down, admin up) for {info.get('polls')} consecutive polls; "
                f"the other members still carry the line (LAG degraded or backup in use) / "
                f"회선 {name}: 구성 인터페이스 {count}개 장애 ({info.get('polls')}회 연속 폴링), 나머지 인터페이스로 "
                f"운용 중 (LAG 성능 저하 또는 백업 사용)")
    if kind is AlertRuleKind.DEVICE_UNREACHABLE:
        lines = ", ".join(info.get("lines", []))
        if resolved:
            return f"device {name} answers again"
        return f"device {name} unreachable for {info.get('polls')} consecutive polls (lines: {lines})"
    what = "device" if labels.get("scope") == AlertScope.DEVICE.value else "line"
    if resolved:
        return f"the collector writes data for {what} {name} again"
    age = "" if value is None else f" for {format_duration(value)}"
    return f"no data from the collector for {what} {name}{age}"


def _facts(alert: Mapping[str, Any]) -> list[tuple[str, str]]:
    labels, info = alert["labels"], alert.get("info", {})
    facts = []
    if labels.get("scope") == AlertScope.DEVICE.value:
        facts.append(("Device", labels.get("device", "")))
        facts.append(("Lines", ", ".join(info.get("lines", []))))
    else:
        facts.append(("Line", labels.get("line", "")))
        facts.append(("Carrier / circuit", f"{labels.get('carrier', '')} {info.get('circuit_id', '')}".strip()))
        if info.get("capacity_bps"):
            facts.append(("Contracted capacity", format_bps(info["capacity_bps"])))
        facts.append(("Device / interface", f"{labels.get('device', '')} {info.get('interface', '')}".strip()))
    facts.append(("Department", labels.get("department", "")))
    facts.append(("Site", labels.get("site", "")))
    if alert["state"] == "firing":
        facts.append(("Since", format_time(alert["since_s"])))
    else:
        facts.append(("Resolved at", format_time(alert.get("changed_s", alert["since_s"]))))
    return facts


def _title(alert: Mapping[str, Any]) -> str:
    state = "RESOLVED" if alert["state"] != "firing" else Severity(alert["severity"]).value.upper()
    return f"[{state}] {alert['rule']}: {summary(alert)}"


def subject_line(payload: Mapping[str, Any], prefix: str = "[linewatch]") -> str:
    firing, resolved = payload.get("firing", []), payload.get("resolved", [])
    group = payload.get("group_labels", {})
    what = " ".join(v for k, v in sorted(group.items()) if v) or "alerts"
    if len(firing) == 1 and not resolved:
        return f"{prefix} {_title(firing[0])}".strip()
    if len(resolved) == 1 and not firing:
        return f"{prefix} {_title(resolved[0])}".strip()
    parts = []
    if firing:
        worst = max((Severity(a["severity"]) for a in firing), key=lambda s: s.rank)
        parts.append(f"FIRING:{len(firing)} ({worst.value})")
    if resolved:
        parts.append(f"RESOLVED:{len(resolved)}")
    return f"{prefix} [{' '.join(parts)}] {what}".strip()


def text_body(payload: Mapping[str, Any]) -> str:
    out = []
    for heading, alerts in (("Firing", payload.get("firing", [])), ("Resolved", payload.get("resolved", []))):
        if not alerts:
            continue
        out.append(f"{heading} ({len(alerts)})")
        out.append("=" * len(out[-1]))
        for alert in alerts[:MAX_LISTED]:
            out.append("")
            out.append(_title(alert))
            for label, value in _facts(alert):
                out.append(f"  {label + ':':<21} {value}")
            out.append(f"  {'Dashboard:':<21} {alert.get('info', {}).get('grafana_url', '')}")
            out.append(f"  {'Alert id:':<21} {alert.get('id')} (ack: linewatch alerts ack {alert.get('id')})")
        if len(alerts) > MAX_LISTED:
            out.append(f"\n… and {len(alerts) - MAX_LISTED} more: linewatch alerts list")
        out.append("")
    out.append(f"-- linewatch alert evaluator ({payload.get('reason', '')})")
    return "\n".join(out) + "\n"


def html_body(payload: Mapping[str, Any]) -> str:
    e = html.escape
    parts = ["<html><body style=\"font-family:sans-serif\">"]
    for heading, alerts in (("Firing", payload.get("firing", [])), ("Resolved", payload.get("resolved", []))):
        if not alerts:
            continue
        parts.append(f"<h2>{heading} ({len(alerts)})</h2>")
        for alert in alerts[:MAX_LISTED]:
            colour = "green" if alert["state"] != "firing" else Severity(alert["severity"]).colour
            url = alert.get("info", {}).get("grafana_url", "")
            parts.append(f"<h3 style=\"color:{colour}\">{e(_title(alert))}</h3><table>")
            for label, value in _facts(alert):
                parts.append(f"<tr><th align=\"left\">{e(label)}</th><td>{e(value)}</td></tr>")
            parts.append(f"<tr><th align=\"left\">Dashboard</th><td><a href=\"{e(url)}\">{e(url)}</a></td></tr>")
            parts.append("</table>")
        if len(alerts) > MAX_LISTED:
            parts.append(f"<p>… and {len(alerts) - MAX_LISTED} more: <code>linewatch alerts list</code></p>")
    parts.append(f"<p style=\"color:gray\">linewatch alert evaluator ({e(payload.get('reason', ''))})</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def slack_message(payload: Mapping[str, Any], *, channel: str | None = None,
                  username: str | None = None) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (notification fallback) plus readable blocks."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject_line(payload, "")[:150]}}
    ]
    for alerts in (payload.get("firing", []), payload.get("resolved", [])):
        for alert in alerts[:20]:  # Slack allows 50 blocks per message
            icon = ":large_green_circle:" if alert["state"] != "firing" else (
                ":red_circle:" if alert["severity"] == Severity.CRITICAL else ":large_orange_circle:")
            url = alert.get("info", {}).get("grafana_url", "")
            fields = [{"type": "mrkdwn", "text": f"*{label}*\n{value or '-'}"} for label, value in _facts(alert)]
            blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                       "text": f"{icon} *{_title(alert)}*\n<{url}|Grafana dashboard>"},
                           "fields": fields[:10]})
    hidden = len(payload.get("firing", [])) + len(payload.get("resolved", [])) - (len(blocks) - 1)
    if hidden > 0:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"… and {hidden} more"}]})
    body: dict[str, Any] = {"text": subject_line(payload, "linewatch"), "blocks": blocks}
    if channel:
        body["channel"] = channel
    if username:
        body["username"] = username
    return body

"""Notification texts: one-line summaries, the email (plain text + HTML) and the Slack block message.

Everything is rendered from the outbox payload alone (alerts as plain dicts), so a message renders the same after
a restart and without the inventory. Each alert names the line, carrier and circuit id, department, current value
and contracted capacity, since when, and links to the line's Grafana dashboard.

Texts are in the receiver's language (:class:`Locale`: ``language`` and ``timezone`` of ``alerts.yaml``), through
the gettext catalogue ``alerting/locale/<lang>/LC_MESSAGES/alerting.po`` (compiled ``.mo`` committed next to it).
The payload holds no rendered text: the language is applied at delivery, per receiver.
"""

from __future__ import annotations

import datetime as dt
import gettext
import html
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerting.config import VOICE_RULE_KINDS
from linewatch.choices import AlertRuleKind, AlertScope, AnomalyDirection, Language, Severity

MAX_LISTED = 100  # alerts detailed per section of an email (a dead collector can make thousands at once)
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "alerting"


@cache
def _translations(language: Language) -> gettext.NullTranslations:
    if language is Language.EN:  # the msgids are the English texts
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language.value])  # missing .mo: an error, not English


@dataclass(frozen=True)
class Locale:
    """How one receiver reads: the language of the texts and the time zone of the times shown."""

    language: Language = Language.EN
    timezone: str = "UTC"

    def gettext(self, message: str) -> str:
        return _translations(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _translations(self.language).ngettext(singular, plural, n)


ENGLISH = Locale()


def format_bps(bps: float) -> str:
    """Bits per second with SI prefixes; the same units in every language (the NOC reads Mbit/s in Korean too)."""
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= scale:
            value = bps / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{bps:.0f} bit/s"


def format_duration(seconds: float, locale: Locale = ENGLISH) -> str:
    _ = locale.gettext
    seconds = int(max(0, seconds))
    if seconds < 120:
        return _("{seconds} s").format(seconds=seconds)
    if seconds < 7200:
        return _("{minutes} min").format(minutes=seconds // 60)
    if seconds < 2 * 86400:
        return _("{hours} h {minutes} min").format(hours=seconds // 3600, minutes=seconds % 3600 // 60)
    return _("{days} d {hours} h").format(days=seconds // 86400, hours=seconds % 86400 // 3600)


def format_time(t_s: float, locale: Locale = ENGLISH) -> str:
    """``2026-12-01 09:00 KST``: the receiver's time zone, named by its abbreviation."""
    return dt.datetime.fromtimestamp(t_s, ZoneInfo(locale.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def format_window(seconds: float, locale: Locale = ENGLISH) -> str:
    """A look-back window as read after "in the last": ``hour``, ``6 h``, else a duration (``30 min``)."""
    seconds = int(seconds)
    if seconds == 3600:
        return locale.gettext("hour")
    if seconds % 3600 == 0:
        return locale.gettext("{hours} h").format(hours=seconds // 3600)
    return format_duration(seconds, locale)


def _voice_summary(kind: AlertRuleKind, name: str, value: float | None, info: Mapping[str, Any], resolved: bool,
                   locale: Locale) -> str:
    """The voice rules' texts: the figures the NOC acts on (busy of contracted channels, calls, cost)."""
    _ = locale.gettext
    count = 0 if value is None else int(value)
    if kind is AlertRuleKind.CHANNEL_UTILIZATION:
        channels = int(info.get("channels") or 0)
        val = _("n/a") if value is None else f"{value:.0f} %"
        busy = 0 if value is None else round(value * channels / 100)
        if resolved:
            return _("{line} back to {busy} of {channels} channels busy ({value})").format(
                line=name, busy=busy, channels=channels, value=val)
        return _("{line}: {busy} of {channels} channels busy ({value}; warning at {warning} %, sustained "
                 "{duration})").format(line=name, busy=busy, channels=channels, value=val,
                                       warning=f"{info.get('warning'):g}",
                                       duration=format_duration(info.get("for_s", 0), locale))
    if kind is AlertRuleKind.BLOCKED_CALLS:
        window = format_window(info.get("window_s", 3600), locale)
        if resolved:
            return _("{line}: blocked calls back to {count} in the last {window}").format(
                line=name, count=count, window=window)
        return locale.ngettext(
            "{line}: {count} call blocked in the last {window} (all channels busy; warning at {warning} per hour)",
            "{line}: {count} calls blocked in the last {window} (all channels busy; warning at {warning} per hour)",
            count).format(line=name, count=count, window=window, warning=f"{info.get('warning'):g}")
    window = format_window(info.get("lookback_s", 3600), locale)
    if kind is AlertRuleKind.PREMIUM_DESTINATION:
        if resolved:
            return _("{line}: calls to premium or high-risk destinations back to {count} in the last {window}").format(
                line=name, count=count, window=window)
        text = locale.ngettext(
            "{line}: {count} call to premium or high-risk destinations in the last {window} (possible toll fraud)",
            "{line}: {count} calls to premium or high-risk destinations in the last {window} (possible toll fraud)",
            count).format(line=name, count=count, window=window)
        destinations = info.get("destinations") or []
        return f"{text}: {', '.join(destinations)}" if destinations else text
    if kind is AlertRuleKind.AFTER_HOURS_INTERNATIONAL:
        bh = info.get("business_hours") or {}
        hours = f"{bh.get('start', '')}–{bh.get('end', '')} {bh.get('timezone', '')}".strip()
        if resolved:
            return _("{line}: international calls outside business hours back to {count} in the last {window}").format(
                line=name, count=count, window=window)
        return locale.ngettext(
            "{line}: {count} international call outside business hours ({hours}) in the last {window}",
            "{line}: {count} international calls outside business hours ({hours}) in the last {window}",
            count).format(line=name, count=count, hours=hours, window=window)
    currency = f" {info['currency']}" if info.get("currency") else ""
    cost = _("n/a") if value is None else f"{value:.2f}{currency}"
    baseline = info.get("baseline")
    base = _("n/a") if baseline is None else f"{baseline:.2f}{currency}"
    if resolved:
        return _("{line}: call cost back to {cost} in the last hour (baseline {baseline})").format(
            line=name, cost=cost, baseline=base)
    return _("{line}: call cost {cost} in the last hour against a baseline of {baseline} for this hour of the week "
             "(alert above {factor}× the baseline and {min_cost})").format(
        line=name, cost=cost, baseline=base, factor=f"{info.get('factor', 0):g}",
        min_cost=f"{info.get('min_cost', 0):g}{currency}")


def format_date(t_s: float, locale: Locale = ENGLISH) -> str:
    """``2026-12-20``: a forecast's crossing day (stored as its midnight UTC: the day itself, in every zone)."""
    return dt.datetime.fromtimestamp(t_s, dt.UTC).strftime("%Y-%m-%d")


def _pct(value: Any, locale: Locale) -> str:
    return locale.gettext("n/a") if value is None else f"{value:.1f} %"


def _forecast_summary(name: str, value: float | None, info: Mapping[str, Any], resolved: bool,
                      locale: Locale) -> str:
    """forecast_crossing: the crossing day, its interval, the busy hour now and the growth per month."""
    _ = locale.gettext
    level = f"{info.get('level_pct', 80):g}"
    if resolved:
        return _("{line}: the busy-hour forecast no longer crosses {level} % within {days} days").format(
            line=name, level=level, days=f"{info.get('within_days', 30):g}")
    date = format_date(info["date_s"], locale) if info.get("date_s") is not None else _("n/a")
    days = 0 if value is None else int(value)
    if days <= 0:
        parts = [_("{line}: busy-hour utilization forecast at {level} % or more from {date}").format(
            line=name, level=level, date=date)]
    else:
        parts = [locale.ngettext("{line}: busy-hour utilization forecast to cross {level} % on {date} (in {days} day)",
                                 "{line}: busy-hour utilization forecast to cross {level} % on {date} (in {days} days)",
                                 days).format(line=name, level=level, date=date, days=days)]
    earliest, latest = info.get("earliest_s"), info.get("latest_s")
    if (earliest is not None or latest is not None) and earliest != latest:  # one day: the date says it all
        parts.append(_("likely between {earliest} and {latest}").format(
            earliest=format_date(earliest, locale) if earliest is not None else "…",
            latest=format_date(latest, locale) if latest is not None else "…"))
    growth = info.get("growth_pct_per_month")
    parts.append(_("busy hour now {busy}, growth {growth} points per month").format(
        busy=_pct(info.get("busy_hour_pct"), locale), growth=_("n/a") if growth is None else f"{growth:+.1f}"))
    return "; ".join(parts)


def _anomaly_summary(name: str, alert: Mapping[str, Any], info: Mapping[str, Any], resolved: bool,
                     locale: Locale) -> str:
    """anomaly: observed against expected for this hour of the week, the direction in words, since when."""
    _ = locale.gettext
    observed, expected = _pct(info.get("observed_pct"), locale), _pct(info.get("expected_pct"), locale)
    if resolved:
        return _("{line}: traffic back to its usual level ({observed}; usual for this hour of the week: "
                 "{expected})").format(line=name, observed=observed, expected=expected)
    score = info.get("score_mad")
    values = {"line": name, "observed": observed, "expected": expected,
              "score": _("n/a") if score is None else f"{score:+.1f}", "since": format_time(alert["since_s"], locale)}
    if info.get("direction") == AnomalyDirection.DROP:
        return _("{line}: traffic drop to {observed} of its contracted capacity where {expected} is usual for this "
                 "hour of the week ({score} MADs) since {since}").format(**values)
    if info.get("direction") == AnomalyDirection.SURGE:
        return _("{line}: traffic surge to {observed} of its contracted capacity where {expected} is usual for this "
                 "hour of the week ({score} MADs) since {since}").format(**values)
    return _("{line}: traffic at {observed} of its contracted capacity departs from the {expected} usual for this "
             "hour of the week ({score} MADs) since {since}").format(**values)


def summary(alert: Mapping[str, Any], locale: Locale = ENGLISH) -> str:
    """One line of human text for an alert dict (``kind``, ``state``, ``value``, ``labels``, ``info``)."""
    _ = locale.gettext
    kind = AlertRuleKind(alert["kind"])
    labels, info = alert["labels"], alert.get("info", {})
    value = alert.get("value")
    name = labels.get("line", "?")
    resolved = alert["state"] != "firing" and alert["state"] != "pending"
    polls = info.get("polls")
    if kind in VOICE_RULE_KINDS:
        return _voice_summary(kind, name, value, info, resolved, locale)
    if kind is AlertRuleKind.FORECAST_CROSSING:
        return _forecast_summary(name, value, info, resolved, locale)
    if kind is AlertRuleKind.ANOMALY:
        return _anomaly_summary(name, alert, info, resolved, locale)
    if kind is AlertRuleKind.UTILIZATION:
        cap = format_bps(info.get("capacity_bps", 0))
        val = _("n/a") if value is None else f"{value:.1f} %"
        if resolved:
            return _("{line} back to {value} of its contracted {capacity}").format(line=name, value=val, capacity=cap)
        return _("{line} at {value} of its contracted {capacity} (warning at {warning} %, sustained {duration})").format(
            line=name, value=val, capacity=cap, warning=f"{info.get('warning'):g}",
            duration=format_duration(info.get("for_s", 0), locale))
    if kind is AlertRuleKind.ERROR_RATE:
        val = _("n/a") if value is None else f"{value:.2f}/s"
        what = " + ".join(info.get("fields", [])) or _("errors")
        text = _("{line} {fields} back to {value} (warning at {warning}/s)") if resolved else \
            _("{line} {fields} at {value} (warning at {warning}/s)")
        return text.format(line=name, fields=what, value=val, warning=f"{info.get('warning'):g}")
    if kind is AlertRuleKind.LINE_DOWN:
        if resolved:
            return _("{line} is up again").format(line=name)
        return _("{line} is down (oper down, admin up) for {polls} consecutive polls").format(line=name, polls=polls)
    if kind is AlertRuleKind.MEMBER_DOWN:
        if resolved:
            return _("{line}: every member interface is up again (or the whole line is down: see line_down)").format(
                line=name)
        count = 1 if value is None else int(value)
        return locale.ngettext(
            "{line} has a member interface down (oper down, admin up) for {polls} consecutive polls; "
            "the other members still carry the line (LAG degraded or backup in use)",
            "{line} has {count} member interfaces down (oper down, admin up) for {polls} consecutive polls; "
            "the other members still carry the line (LAG degraded or backup in use)", count,
        ).format(line=name, count=count, polls=polls)
    if kind is AlertRuleKind.DEVICE_UNREACHABLE:
        if resolved:
            return _("device {device} answers again").format(device=name)
        return _("device {device} unreachable for {polls} consecutive polls (lines: {lines})").format(
            device=name, polls=polls, lines=", ".join(info.get("lines", [])))
    device = labels.get("scope") == AlertScope.DEVICE.value
    if resolved:
        text = _("the collector writes data for device {name} again") if device else \
            _("the collector writes data for line {name} again")
        return text.format(name=name)
    if value is None:
        text = _("no data from the collector for device {name}") if device else \
            _("no data from the collector for line {name}")
        return text.format(name=name)
    text = _("no data from the collector for device {name} for {duration}") if device else \
        _("no data from the collector for line {name} for {duration}")
    return text.format(name=name, duration=format_duration(value, locale))


def _facts(alert: Mapping[str, Any], locale: Locale) -> list[tuple[str, str]]:
    _ = locale.gettext
    labels, info = alert["labels"], alert.get("info", {})
    facts = []
    if labels.get("scope") == AlertScope.DEVICE.value:
        facts.append((_("Device"), labels.get("device", "")))
        facts.append((_("Lines"), ", ".join(info.get("lines", []))))
    else:
        facts.append((_("Line"), labels.get("line", "")))
        facts.append((_("Carrier / circuit"), f"{labels.get('carrier', '')} {info.get('circuit_id', '')}".strip()))
        if info.get("capacity_bps"):
            facts.append((_("Contracted capacity"), format_bps(info["capacity_bps"])))
        if info.get("channels"):
            facts.append((_("Contracted channels"), str(info["channels"])))
        facts.append((_("Device / interface"), f"{labels.get('device', '')} {info.get('interface', '')}".strip()))
    facts.append((_("Department"), labels.get("department", "")))
    facts.append((_("Site"), labels.get("site", "")))
    if alert["state"] == "firing":
        facts.append((_("Since"), format_time(alert["since_s"], locale)))
    else:
        facts.append((_("Resolved at"), format_time(alert.get("changed_s", alert["since_s"]), locale)))
    return facts


def severity_name(severity: Severity | str, locale: Locale = ENGLISH) -> str:
    _ = locale.gettext
    names = {Severity.INFO: _("info"), Severity.WARNING: _("warning"), Severity.CRITICAL: _("critical")}
    return names[Severity(severity)]


def _title(alert: Mapping[str, Any], locale: Locale) -> str:
    _ = locale.gettext
    state = _("RESOLVED") if alert["state"] != "firing" else severity_name(alert["severity"], locale).upper()
    return f"[{state}] {alert['rule']}: {summary(alert, locale)}"


def subject_line(payload: Mapping[str, Any], prefix: str = "[linewatch]", *, locale: Locale = ENGLISH) -> str:
    _ = locale.gettext
    firing, resolved = payload.get("firing", []), payload.get("resolved", [])
    group = payload.get("group_labels", {})
    what = " ".join(v for k, v in sorted(group.items()) if v) or _("alerts")
    if len(firing) == 1 and not resolved:
        return f"{prefix} {_title(firing[0], locale)}".strip()
    if len(resolved) == 1 and not firing:
        return f"{prefix} {_title(resolved[0], locale)}".strip()
    parts = []
    if firing:
        worst = max((Severity(a["severity"]) for a in firing), key=lambda s: s.rank)
        parts.append(_("FIRING:{count} ({severity})").format(count=len(firing),
                                                             severity=severity_name(worst, locale)))
    if resolved:
        parts.append(_("RESOLVED:{count}").format(count=len(resolved)))
    return f"{prefix} [{' '.join(parts)}] {what}".strip()


def _sections(payload: Mapping[str, Any], locale: Locale) -> list[tuple[str, list[Mapping[str, Any]]]]:
    _ = locale.gettext
    return [(heading, alerts) for heading, alerts in ((_("Firing"), payload.get("firing", [])),
                                                      (_("Resolved"), payload.get("resolved", []))) if alerts]


def text_body(payload: Mapping[str, Any], *, locale: Locale = ENGLISH) -> str:
    _ = locale.gettext
    out = []
    for heading, alerts in _sections(payload, locale):
        out.append(f"{heading} ({len(alerts)})")
        out.append("=" * len(out[-1]))
        for alert in alerts[:MAX_LISTED]:
            out.append("")
            out.append(_title(alert, locale))
            for label, value in _facts(alert, locale):
                out.append(f"  {label + ':':<21} {value}")
            dashboard, alert_id = _("Dashboard"), _("Alert id")
            out.append(f"  {dashboard + ':':<21} {alert.get('info', {}).get('grafana_url', '')}")
            ack = _("{id} (ack: linewatch alerts ack {id})").format(id=alert.get("id"))
            out.append(f"  {alert_id + ':':<21} {ack}")
        if len(alerts) > MAX_LISTED:
            out.append("\n… " + _("and {count} more: linewatch alerts list").format(count=len(alerts) - MAX_LISTED))
        out.append("")
    out.append("-- " + _("linewatch alert evaluator ({reason})").format(reason=payload.get("reason", "")))
    return "\n".join(out) + "\n"


def html_body(payload: Mapping[str, Any], *, locale: Locale = ENGLISH) -> str:
    _ = locale.gettext
    e = html.escape
    parts = [f"<html lang=\"{e(locale.language.value)}\"><body style=\"font-family:sans-serif\">"]
    for heading, alerts in _sections(payload, locale):
        parts.append(f"<h2>{e(heading)} ({len(alerts)})</h2>")
        for alert in alerts[:MAX_LISTED]:
            colour = "green" if alert["state"] != "firing" else Severity(alert["severity"]).colour
            url = alert.get("info", {}).get("grafana_url", "")
            parts.append(f"<h3 style=\"color:{colour}\">{e(_title(alert, locale))}</h3><table>")
            for label, value in _facts(alert, locale):
                parts.append(f"<tr><th align=\"left\">{e(label)}</th><td>{e(value)}</td></tr>")
            dashboard = _("Dashboard")
            parts.append(f"<tr><th align=\"left\">{e(dashboard)}</th>"
                         f"<td><a href=\"{e(url)}\">{e(url)}</a></td></tr>")
            parts.append("</table>")
        if len(alerts) > MAX_LISTED:
            more = "… " + e(_("and {count} more: linewatch alerts list").format(count=len(alerts) - MAX_LISTED))
            parts.append(f"<p>{more}</p>")
    reason = _("linewatch alert evaluator ({reason})").format(reason=payload.get("reason", ""))
    parts.append(f"<p style=\"color:gray\">{e(reason)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _mrkdwn(text: str) -> str:
    """Slack's control characters in mrkdwn text (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(payload: Mapping[str, Any], *, channel: str | None = None, username: str | None = None,
                  locale: Locale = ENGLISH) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (notification fallback) plus readable blocks."""
    _ = locale.gettext
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject_line(payload, "", locale=locale)[:150]}}
    ]
    for alerts in (payload.get("firing", []), payload.get("resolved", [])):
        for alert in alerts[:20]:  # Slack allows 50 blocks per message
            icon = ":large_green_circle:" if alert["state"] != "firing" else (
                ":red_circle:" if alert["severity"] == Severity.CRITICAL else ":large_orange_circle:")
            url = alert.get("info", {}).get("grafana_url", "")
            fields = [{"type": "mrkdwn", "text": f"*{_mrkdwn(label)}*\n{_mrkdwn(value) or '-'}"}
                      for label, value in _facts(alert, locale)]
            link = _("Grafana dashboard")
            text = f"{icon} *{_mrkdwn(_title(alert, locale))}*\n<{url}|{_mrkdwn(link)}>"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}, "fields": fields[:10]})
    hidden = len(payload.get("firing", [])) + len(payload.get("resolved", [])) - (len(blocks) - 1)
    if hidden > 0:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": "… " + _mrkdwn(_("and {count} more").format(count=hidden))}]})
    body: dict[str, Any] = {"text": subject_line(payload, "linewatch", locale=locale), "blocks": blocks}
    if channel:
        body["channel"] = channel
    if username:
        body["username"] = username
    return body

"""The ``make run`` alerting stage: the demo network's saturated line mails an 80 % warning, its down line a critical
alert, into the demo mailbox (.eml files) and the webhook sink (JSON files)."""

from __future__ import annotations

import json
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from alerting.demo import DemoMailbox, WebhookSink, build_demo_service, demo_stage, sink_ports
from linewatch.choices import OperStatus
from linewatch.demo import DemoContext
from linewatch.influx import InfluxClient, Point
from linewatch.inventory import load_inventory
from linewatch.servers.ports import free_tcp_port
from linewatch.settings import load_settings
from tests.alerting.conftest import T0, traffic_point, write

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ctx(tmp_path: Path, influx: InfluxClient) -> DemoContext:
    """The demo's config with the sinks on free ports (a running `make run` may hold the real ones)."""
    smtp, hook = free_tcp_port(), free_tcp_port()
    text = (REPO / "config" / "alerts.yaml").read_text(encoding="utf-8")
    text = text.replace("port: 18025", f"port: {smtp}").replace("127.0.0.1:18089", f"127.0.0.1:{hook}")
    (tmp_path / "alerts.yaml").write_text(text, encoding="utf-8")
    settings = load_settings(REPO / "config" / "linewatch.yaml")
    settings = settings.model_copy(update={"alerts_path": tmp_path / "alerts.yaml"})
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    return DemoContext(settings, tmp_path / "run", influx, inventory, threading.Event())


def seed_demo(ctx: DemoContext, now_s: int) -> None:
    """The demo history up to now plus what the live collector writes: AMS-MPLS-1 oper down, every device polled."""
    from collector.demo.history import load_history

    load_history(ctx.influx, ctx.inventory, start_s=now_s - 1800, end_s=now_s - 60, step_s=10)
    ams = ctx.inventory.lines_by_id["AMS-MPLS-1"]
    live: list[Point] = []
    for line in ctx.inventory.polled_lines():
        for t in range(now_s - 60, now_s, 10):
            down = line.id == ams.id
            util = 0.0 if down else (88.0 if line.id == "FRA-MPLS-1" else 30.0)
            live.append(traffic_point(line.id, t, util=util, tags={k: v for k, v in line.tags().items() if k != "line"},
                                      oper=OperStatus.DOWN if down else OperStatus.UP,
                                      capacity_bps=line.capacity_at(t)))
    for device in ctx.inventory.devices:
        live += [Point("collector_poll", {"device": device.name, "collector": "demo"}, {"ok": 1}, t * 10**9)
                 for t in range(now_s - 60, now_s, 10)]
    write(ctx.influx, live)


def emails(folder: Path) -> list[Any]:
    return [message_from_bytes(p.read_bytes(), policy=default_policy) for p in sorted(folder.glob("*.eml"))]


def test_demo_saturated_line_warns_and_down_line_is_critical(ctx: DemoContext) -> None:
    seed_demo(ctx, T0)
    smtp, hook = sink_ports(build_demo_service(ctx).config)
    mailbox = DemoMailbox(ctx.run_dir / "mailbox", port=smtp).start()
    sink = WebhookSink(ctx.run_dir / "webhook", port=hook).start()
    service = build_demo_service(ctx)
    try:
        for t in range(T0, T0 + 30, 10):  # the demo evaluates every 10 s
            service.tick(t)
    finally:
        service.close()
        sink.stop()
        mailbox.stop()
    mails = emails(mailbox.folder)
    subjects = [m["Subject"] for m in mails]  # the demo's mailboxes are Korean receivers (Asia/Seoul)
    assert any("[경고] utilization: 회선 FRA-MPLS-1 사용률 88.0 %" in s for s in subjects), subjects
    assert any("[심각] line_down: 회선 AMS-MPLS-1 장애" in s for s in subjects), subjects
    assert all(m["Content-Language"] == "ko" and "KST" in m.get_body(("plain",)).get_content() for m in mails)
    assert not any("LON-MPLS-1" in s or "PAR-INET-2" in s for s in subjects)
    hooks = [json.loads(p.read_text()) for p in sink.bodies()]
    assert any("AMS-MPLS-1 is down" in h["text"] for h in hooks)  # the Slack receiver is English


def test_demo_stage_runs_until_stopped(ctx: DemoContext) -> None:
    """The real stage, on the wall clock: the first emails arrive within a minute (group_wait 10 s)."""
    seed_demo(ctx, int(time.time()))
    thread = threading.Thread(target=demo_stage, args=(ctx,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 90
    subjects: list[str] = []
    while time.monotonic() < deadline:
        subjects = [m["Subject"] for m in emails(ctx.run_dir / "mailbox")]
        if any("FRA-MPLS-1" in s for s in subjects) and any("AMS-MPLS-1" in s for s in subjects):
            break
        time.sleep(0.5)
    ctx.stop_event.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert any("FRA-MPLS-1" in s for s in subjects) and any("AMS-MPLS-1" in s for s in subjects), subjects
    assert (ctx.run_dir / "var" / "alerts.sqlite").exists()

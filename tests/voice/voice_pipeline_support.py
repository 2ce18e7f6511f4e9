"""Shared helpers of the pipeline part's tests (store, aggregation, pipeline, service): a small inventory with two
voice trunks and a data line, and call frames built column-wise."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from linewatch.inventory import Inventory, load_inventory
from linewatch.voice.config import VoiceConfig, load_voice_file
from linewatch.voice.frame import ALL_COLUMNS, CALL_COLUMNS, conform

INVENTORY_YAML = """\
devices:
  - {name: pbx, address: 192.0.2.1, snmp: {version: 2c, community: x}}
lines:
  - {id: FRA-VOICE-1, carrier: Deutsche Telekom, circuit_id: v1, type: voice_trunk, site: Frankfurt,
     department: Sales, device: pbx, if_index: 1, capacity_bps: 2000000, channels: 30, rate_plan: plan-de}
  - {id: PAR-VOICE-1, carrier: Orange Business, circuit_id: v2, type: voice_trunk, site: Paris,
     department: Operations, device: pbx, if_index: 2, capacity_bps: 1000000, channels: 10}
  - {id: NOCH-VOICE, carrier: Orange Business, circuit_id: v3, type: voice_trunk, site: Paris,
     department: Operations, device: pbx, if_index: 4, capacity_bps: 1000000}
  - {id: FRA-NET-1, carrier: Deutsche Telekom, circuit_id: d1, type: internet, site: Frankfurt,
     department: IT, device: pbx, if_index: 3, capacity_bps: 100000000}
"""

VOICE_YAML = """\
rate_plans:
  - name: plan-de
    currency: EUR
    timezone: Europe/Berlin
    increment: 60/60
    rates:
      - {class: national, rate: "0.02"}
      - {class: international, rate: "0.50"}
      - {rate: "0.10"}
    bundles:
      - {name: national-100, minutes: 100, classes: [national]}
"""

T0 = 1_764_547_200  # 2025-12-01T00:00:00Z, a minute and day boundary


def voice_config(tmp_path: Path, text: str = VOICE_YAML) -> VoiceConfig:
    path = tmp_path / "voice.yaml"
    path.write_text(text)
    return load_voice_file(path, inventory(tmp_path))


def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "lines.yaml"
    path.write_text(INVENTORY_YAML)
    return load_inventory(path)


def calls(rows: Sequence[dict], *, rated: bool = False) -> pd.DataFrame:
    """A call frame from short row dicts: ``start``/``end`` (s after T0), ``answer`` (s after T0 or None),
    ``line``, ``outcome`` (answered), ``direction`` (outbound), ``key``, rated columns when ``rated``."""
    out = []
    for i, r in enumerate(rows):
        start = T0 + r["start"]
        end = T0 + r["end"]
        outcome = r.get("outcome", "answered")
        answer = r.get("answer", r["start"] if outcome == "answered" else None)
        answer_s = T0 + answer if answer is not None else float("nan")
        row = {
            "call_key": r.get("key", f"k{i}"), "source": f"test.csv:{i + 1}", "trunk": r.get("trunk", "t"),
            "line": r.get("line", "FRA-VOICE-1"), "start_s": float(start), "answer_s": answer_s, "end_s": float(end),
            "duration_s": float(end - start), "billsec_s": float(end - answer_s) if answer is not None else 0.0,
            "caller": r.get("caller", "3101"), "callee": r.get("callee", "069123456"),
            "extension": r.get("extension", "3101"), "direction": r.get("direction", "outbound"),
            "outcome": outcome, "sip_code": r.get("sip_code", 200 if outcome == "answered" else 503),
            "q850_cause": r.get("q850", None),
        }
        if rated:
            row |= {"callee_e164": "4969123456", "dest_class": r.get("dest_class", "national"),
                    "high_risk": r.get("high_risk", False), "rate_plan": "plan-de", "rate_prefix": "49",
                    "band": "", "billed_s": row["billsec_s"], "bundle_s": r.get("bundle_s", 0.0),
                    "cost": r.get("cost", 0.0), "currency": "EUR"}
        out.append(row)
    columns = ALL_COLUMNS if rated else CALL_COLUMNS
    frame = pd.DataFrame(out, columns=list(columns)) if out else pd.DataFrame(columns=list(columns))
    return conform(frame, columns)


def asterisk_row(uid: str, start: float, duration: int, billsec: int, *, disposition: str = "ANSWERED",
                 channel: str = "PJSIP/3101-00000001", dstchannel: str = "PJSIP/dtag-00000002",
                 src: str = "3101", dst: str = "069123456") -> str:
    """One Asterisk cdr_csv Master.csv row (the documented 16 columns + uniqueid), times UTC (s after T0)."""
    import datetime as dt

    def stamp(t: float) -> str:
        return dt.datetime.fromtimestamp(T0 + t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    answer = stamp(start + duration - billsec) if billsec else ""
    fields = ["", src, dst, "from-internal", f'"Alice" <{src}>', channel, dstchannel, "Dial", f"{dstchannel},60",
              stamp(start), answer, stamp(start + duration), str(duration), str(billsec), disposition,
              "DOCUMENTATION", uid]
    return ",".join('"' + f.replace('"', '""') + '"' if not f.isdigit() else f for f in fields) + "\n"

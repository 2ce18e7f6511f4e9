"""Shared set-up of the CDR-sources tests: a small inventory (two voice trunks and a data line), a voice.yaml with
sources, layouts and trunks, and the sample files (tests/voice/cdr_samples, written per each format's documented
column order)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from linewatch.inventory import Inventory, load_inventory
from linewatch.voice.config import VoiceConfig, load_voice_file
from linewatch.voice.formats.config import CdrSource, CsvLayout
from linewatch.voice.mapping import TrunkMapper

SAMPLES = Path(__file__).parent / "cdr_samples"
T0 = 1_793_577_600  # 2026-11-02T00:00:00Z; 09:00 Europe/Berlin that day = T0 + 8 h

INVENTORY_YAML = """\
devices:
  - {name: pbx, address: 192.0.2.1, snmp: {version: 2c, community: x}}
lines:
  - {id: FRA-VOICE-1, carrier: Deutsche Telekom, circuit_id: DTAG-1, type: voice_trunk, site: Frankfurt,
     department: Sales, device: pbx, if_index: 1, capacity_bps: 2000000, channels: 30}
  - {id: PAR-VOICE-1, carrier: Orange Business, circuit_id: OBS-FR-SIP-4410, type: voice_trunk, site: Paris,
     department: Operations, device: pbx, if_index: 2, capacity_bps: 1000000, channels: 10}
  - {id: FRA-NET-1, carrier: Deutsche Telekom, circuit_id: d1, type: internet, site: Frankfurt,
     department: IT, device: pbx, if_index: 3, capacity_bps: 100000000}
"""

VOICE_YAML = """\
sources:
  - {name: asterisk, format: asterisk, path: Master.csv, timezone: Europe/Berlin}
  - {name: freeswitch, format: freeswitch, path: fs.csv, timezone: Europe/Berlin}
  - {name: pbx, format: csv, path: pbx.csv, layout: pbx}
layouts:
  - name: obs-itemized
    delimiter: ";"
    columns: {call_id: "Réf. appel", trunk: Circuit, start: "Début", caller: Appelant, callee: "Appelé",
              duration_s: "Durée (s)", billed_s: "Durée facturée (s)", billed_class: Destination,
              amount: "Montant HT (EUR)"}
    time_format: "%d/%m/%Y %H:%M:%S"
    timezone: Europe/Paris
  - name: pbx
    delimiter: "|"
    columns: {call_id: id, trunk: gw, start: [date, time], caller: from, callee: to, direction: dir,
              duration_s: secs, billsec_s: talk, disposition: result, sip_code: sip}
    timezone: Europe/Berlin
    directions: {I: inbound, O: outbound, X: internal}
    outcomes: {OK: answered, NOANSWER: no_answer, FAIL: failed}
trunks:
  - {match: "PJSIP/dtag-*", line: FRA-VOICE-1, source: asterisk}
  - {match: "PJSIP/obs-*", line: PAR-VOICE-1, source: asterisk}
  - {match: "dtag", line: FRA-VOICE-1, source: freeswitch}
  - {match: "GW-DE-?", line: FRA-VOICE-1, source: pbx}
  - {match: "OBS-FR-SIP-*", line: PAR-VOICE-1}
"""


@dataclass
class CdrEnv:
    folder: Path
    inventory: Inventory
    config: VoiceConfig

    def source(self, name: str) -> CdrSource:
        source = self.config.source(name)
        if source is None:  # the itemized records: a source made up by the billing audit
            return CdrSource(name=name, format="csv", path=self.folder / f"{name}.csv", layout=name)
        return source

    def mapper(self, source: str) -> TrunkMapper:
        return TrunkMapper(self.config.trunks, self.inventory, source=source)

    def layout(self, source: str) -> CsvLayout | None:
        return self.config.layout(self.source(source).layout)


def cdr_env(folder: Path, voice_yaml: str = VOICE_YAML) -> CdrEnv:
    (folder / "lines.yaml").write_text(INVENTORY_YAML)
    (folder / "voice.yaml").write_text(voice_yaml)
    inventory = load_inventory(folder / "lines.yaml")
    return CdrEnv(folder, inventory, load_voice_file(folder / "voice.yaml", inventory))

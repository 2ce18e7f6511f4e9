"""voice.yaml (linewatch/voice/config.py): strict parsing, cross checks against the inventory with the file line,
paths relative to voice.yaml, the check-config hook."""

from __future__ import annotations

from pathlib import Path

import pytest
from voice_pipeline_support import INVENTORY_YAML, inventory

from linewatch.configcheck import check_all
from linewatch.errors import ConfigError
from linewatch.settings import load_settings
from linewatch.voice.config import VoiceConfig, check_config, load_voice_config, load_voice_file

GOOD = """\
store_path: ../run/calls.sqlite
sources:
  - {name: pbx, format: asterisk, path: cdr/Master.csv}
trunks:
  - {match: "PJSIP/dtag-*", line: FRA-VOICE-1}
rate_plans:
  - {name: plan-de, currency: EUR, rates: [{rate: "0.01"}]}
live:
  - name: kamailio
    kind: kamailio_jsonrpc
    url: http://127.0.0.1:15060/RPC
    trunks: {dtag: FRA-VOICE-1, obs: PAR-VOICE-1}
capacity: {target_gos_pct: 0.5}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "config").mkdir(exist_ok=True)
    path = tmp_path / "config" / "voice.yaml"
    path.write_text(text)
    return path


def test_a_good_file_loads_with_paths_relative_to_itself(tmp_path: Path) -> None:
    cfg = load_voice_file(write(tmp_path, GOOD), inventory(tmp_path))
    base = (tmp_path / "config").resolve()
    assert cfg.store_path == base / "../run/calls.sqlite"
    assert cfg.sources[0].path == base / "cdr/Master.csv"
    assert cfg.live[0].profile == "trunk" and cfg.live[0].trunks["obs"] == "PAR-VOICE-1"
    assert cfg.capacity.target_gos == pytest.approx(0.005)


def test_defaults() -> None:
    cfg = VoiceConfig()
    assert cfg.capacity.target_gos_pct == 1.0 and cfg.live == [] and cfg.store_path is None


@pytest.mark.parametrize(("edit", "line", "key", "reason"), [
    pytest.param(("line: FRA-VOICE-1}", "line: NOPE}"), 5, "trunks[0].line", "unknown line 'NOPE'", id="unknown-line"),
    pytest.param(("line: FRA-VOICE-1}", "line: FRA-NET-1}"), 5, "trunks[0].line",
                 "is a internet line, not a voice_trunk", id="not-a-voice-trunk"),
    pytest.param(("obs: PAR-VOICE-1", "obs: FRA-NET-1"), 12, "live[0].trunks.obs", "not a voice_trunk",
                 id="live-trunk-not-voice"),
    pytest.param(("name: plan-de", "name: other-plan"), 6, "rate_plans",
                 "line FRA-VOICE-1 (inventory) uses rate plan 'plan-de', which is not defined", id="undefined-plan"),
    pytest.param(("format: asterisk, path: cdr/Master.csv}", "format: csv, path: x, layout: nope}"), 3,
                 "sources[0].layout", "unknown layout 'nope'", id="unknown-layout"),
    pytest.param(("capacity: {target_gos_pct: 0.5}", "capacity: {target_gos_pct: 0}"), 13,
                 "capacity.target_gos_pct", "greater than 0", id="gos-zero"),
    pytest.param(("capacity: {target_gos_pct: 0.5}", "capacity: {target_pct: 1}"), 13,
                 "capacity.target_pct", "unknown key", id="typo-is-an-error"),
    pytest.param(("http://127.0.0.1:15060/RPC", "http://u:pw@127.0.0.1/RPC"), 11, "live[0].url",
                 "user name or password", id="credentials-in-url"),
    pytest.param(("  - {match: \"PJSIP/dtag-*\", line: FRA-VOICE-1}",
                  "  - {match: \"PJSIP/dtag-*\", line: FRA-VOICE-1, source: nope}"), 5, "trunks[0].source",
                 "unknown source 'nope'", id="unknown-source"),
])
def test_problems_are_located(tmp_path: Path, edit: tuple[str, str], line: int, key: str, reason: str) -> None:
    assert edit[0] in GOOD
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_voice_file(path, inventory(tmp_path))
    [problem] = err.value.problems
    assert (problem.line, problem.key) == (line, key)
    assert reason in problem.reason


def test_duplicate_names_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - {name: pbx, format: asterisk, path: a.csv}\n"
                           "  - {name: pbx, format: asterisk, path: b.csv}\n")
    with pytest.raises(ConfigError, match=r"voice.yaml:3: sources\[1\].name: duplicate name 'pbx' \(first at "
                                          r"sources\[0\]\)"):
        load_voice_file(path)


def test_check_config_reports_voice_problems_through_check_all(tmp_path: Path) -> None:
    (tmp_path / "lines.yaml").write_text(INVENTORY_YAML)
    write(tmp_path, GOOD.replace("line: FRA-VOICE-1}", "line: NOPE}") + "extensions: extensions.csv\n")
    (tmp_path / "linewatch.yaml").write_text("inventory_path: lines.yaml\nvoice_path: config/voice.yaml\n")
    settings = load_settings(tmp_path / "linewatch.yaml")
    problems = check_config(settings)
    assert [p.key for p in problems] == ["trunks[0].line"]
    assert any("unknown line 'NOPE'" in str(p) for p in check_all(tmp_path / "linewatch.yaml"))
    write(tmp_path, GOOD + "extensions: extensions.csv\n")
    assert [str(p.reason) for p in check_config(settings)] == [
        f"file not found: {(tmp_path / 'config').resolve() / 'extensions.csv'}"]


def test_missing_file_gives_defaults_unless_named(tmp_path: Path) -> None:
    (tmp_path / "linewatch.yaml").write_text("{}\n")
    assert load_voice_config(load_settings(tmp_path / "linewatch.yaml")) == VoiceConfig()
    (tmp_path / "linewatch.yaml").write_text("voice_path: nope.yaml\n")
    with pytest.raises(ConfigError, match="nope.yaml: file not found"):
        load_voice_config(load_settings(tmp_path / "linewatch.yaml"))


def test_the_demo_file_is_valid() -> None:
    repo = Path(__file__).resolve().parents[2]
    settings = load_settings(repo / "config" / "linewatch.yaml")
    assert check_config(settings) == []

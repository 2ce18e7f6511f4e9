"""Hostile and broken YAML: refused with a located problem, never a hang or a traceback (issue 9)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from linewatch import yamlconf
from linewatch.cli import main
from linewatch.errors import ConfigError
from linewatch.inventory import load_inventory
from linewatch.yamlconf import MAX_YAML_BYTES, MAX_YAML_DEPTH, YAML_LOADER, load_located

REPO = Path(__file__).resolve().parents[2]
CHECK_TIMEOUT_S = 120  # generous (shared machine); the fixed loader answers in about a second

# 10 levels, each 5 aliases of the previous: 5**9 ≈ 2 million "lol"s from 300 bytes.
ALIAS_BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 5)}]\n" for i in range(9)
)
HUGE_INT = "9" * 5000


@pytest.fixture(params=[
    pytest.param("c", id="libyaml-loader"),
    pytest.param("python", id="python-loader"),
])  # fmt: skip
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[type]:
    """Every case runs with libyaml's C loader (when PyYAML has it) and with the pure-Python fallback."""
    if request.param == "c":
        if not yaml.__with_libyaml__:
            pytest.skip("PyYAML built without libyaml")
        chosen: type = yaml.CSafeLoader
    else:
        chosen = yaml.SafeLoader
    monkeypatch.setattr(yamlconf, "YAML_LOADER", chosen)
    yield chosen


def test_libyaml_c_loader_is_used_when_available() -> None:
    assert YAML_LOADER is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


def shipped_config(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path / "config"


def append(path: Path, text: str) -> int:
    """Append ``text`` to ``path``; return the line number its first line lands on."""
    before = path.read_text()
    if not before.endswith("\n"):
        before += "\n"
    path.write_text(before + text)
    return before.count("\n") + 1


def check_config_process(cfg: Path) -> subprocess.CompletedProcess[str]:
    """``linewatch check-config`` as a user runs it; the timeout catches a hang, not a slow start on a busy box."""
    argv = [sys.executable, "-m", "linewatch.cli", "-c", str(cfg), "check-config"]
    try:
        return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S,
                              cwd=cfg.parent)  # fmt: skip
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"check-config gave no answer within {CHECK_TIMEOUT_S} s (hung); stderr so far: {hung.stderr!r}")


def the_one_problem_line(stderr: str, needle: str) -> str:
    """The single stderr line naming ``needle``; it must be check-config's ``error:`` line, printed once (a
    log record of the same failure printed it twice, and the first line was then the log's)."""
    rows = [row for row in stderr.splitlines() if needle in row]
    assert len(rows) == 1 and rows[0].startswith("error: "), stderr
    return rows[0]


@pytest.mark.slow
def test_alias_bomb_does_not_hang_check_config_and_is_reported_once(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB) <= 300
    config = shipped_config(tmp_path)
    line = append(config / "lines.yaml", ALIAS_BOMB)
    done = check_config_process(config / "linewatch.yaml")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    problem = the_one_problem_line(done.stderr, "YAML aliases are not allowed")
    assert problem.startswith(f"error: {config / 'lines.yaml'}:{line + 1}: b[0]: YAML aliases are not allowed")


@pytest.mark.slow
def test_five_thousand_digit_integer_is_one_located_problem_not_a_log_line_or_traceback(tmp_path: Path) -> None:
    config = shipped_config(tmp_path)
    text = (config / "lines.yaml").read_text()
    assert "capacity_bps: 1000000000\n" in text
    line = text[: text.index("capacity_bps: 1000000000\n")].count("\n") + 1
    (config / "lines.yaml").write_text(text.replace("capacity_bps: 1000000000\n", f"capacity_bps: {HUGE_INT}\n", 1))
    done = check_config_process(config / "linewatch.yaml")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    problem = the_one_problem_line(done.stderr, "capacity_bps")
    assert problem.startswith(f"error: {config / 'lines.yaml'}:{line}: lines[")
    assert "integer of 5000 characters is too long" in problem
    assert HUGE_INT not in done.stderr, "a 5,000-character value is not worth repeating"


CONFIG_FILES = ["linewatch.yaml", "lines.yaml", "alerts.yaml", "carriers.yaml", "contracts.yaml", "flows.yaml"]
BAD_SCALARS = [
    pytest.param("2026-02-30", "not a valid date (day is out of range for month)", id="february-30"),
    pytest.param("2026-13-01", "not a valid date (month must be in 1..12)", id="month-13"),
    pytest.param(HUGE_INT, "integer of 5000 characters is too long", id="5000-digit-int"),
    pytest.param("!!python/object/apply:os.system ['true']", "unsupported YAML tag", id="python-tag"),
    pytest.param("!vault abc", "unsupported YAML tag '!vault'", id="unknown-tag"),
]


@pytest.mark.parametrize("name", CONFIG_FILES)
@pytest.mark.parametrize(("value", "reason"), BAD_SCALARS)
def test_impossible_date_or_huge_int_in_any_config_file_is_a_located_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture, name: str, value: str, reason: str) -> None:
    config = shipped_config(tmp_path)
    line = append(config / name, f"install_date: {value}\n")
    assert main(["-c", str(config / "linewatch.yaml"), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"error: {config / name}:{line}: install_date: {reason}" in err, err


BAD_YAML = [
    pytest.param(ALIAS_BOMB, 2, "b[0]", "YAML aliases are not allowed (*a; 45 aliases in this file)",
                 id="alias-bomb"),
    pytest.param("community: &c secret\nother: *c\n", 2, "other", "YAML aliases are not allowed (*c)",
                 id="scalar-alias"),
    pytest.param("a:\n  - &x {k: 1}\n  - *x\n", 3, "a[1]", "YAML aliases are not allowed", id="alias-in-list"),
    pytest.param("x: " + "[" * (MAX_YAML_DEPTH + 5) + "]" * (MAX_YAML_DEPTH + 5) + "\n", 1, "x" + "[0]" * 63,
                 f"nested deeper than {MAX_YAML_DEPTH} levels", id="too-deep"),
    pytest.param("? [a, b]\n: 1\n", 1, "", "keys must be plain words", id="list-as-key"),
    pytest.param("when: 2026-02-30\n", 1, "when", "not a valid date", id="february-30"),
    pytest.param("n: " + HUGE_INT + "\n", 1, "n", "integer of 5000 characters is too long", id="5000-digit-int"),
    pytest.param("a: 1\na: 2\n", 2, "a", "duplicate key", id="duplicate-key"),
    pytest.param("capacity_bps: 9223372036854775808\n", 1, "capacity_bps", "integer out of range: at most 64 bits",
                 id="int-above-int64"),
]


@pytest.mark.parametrize(("text", "line", "key", "reason"), BAD_YAML)
def test_hostile_yaml_is_a_located_problem(tmp_path: Path, loader: type, text: str, line: int, key: str,
                                           reason: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_located(path)
    assert [(p.file, p.line, p.key) for p in info.value.problems][:1] == [(str(path), line, key)], info.value
    assert reason in info.value.problems[0].reason


def test_anchors_without_aliases_are_accepted(tmp_path: Path, loader: type) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: &x 1\nb:\n  - c: 2026-02-28\n")
    located = load_located(path)
    assert located.data == {"a": 1, "b": [{"c": __import__("datetime").date(2026, 2, 28)}]}
    assert located.line_of(("b", 0, "c")) == 3


def test_oversized_yaml_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "lines.yaml"
    with path.open("w") as fh:
        fh.write("devices: []\n")
        fh.write(("#" * 1023 + "\n") * (MAX_YAML_BYTES // 1024 + 1))
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert str(info.value) == (f"{path}: file is larger than {MAX_YAML_BYTES} bytes, the most a configuration file "
                               "may have (set LINEWATCH_YAML_MAX_BYTES to allow more)")


def test_yaml_size_limit_can_be_raised_by_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\n" + "#" * 100 + "\n")
    monkeypatch.setenv("LINEWATCH_YAML_MAX_BYTES", "50")
    with pytest.raises(ConfigError, match="larger than 50 bytes"):
        load_located(path)
    monkeypatch.setenv("LINEWATCH_YAML_MAX_BYTES", "500")
    assert load_located(path).data == {"a": 1}


def test_non_utf8_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_located(path)
    assert (info.value.problems[0].line, "not UTF-8") == (2, "not UTF-8")
    assert "not UTF-8 text" in info.value.problems[0].reason


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing configured yet\n"], ids=["empty", "blank", "comments-only"])
def test_empty_inventory_file_gets_its_own_error(tmp_path: Path, text: str, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "lines.yaml").write_text(text)
    cfg = tmp_path / "linewatch.yaml"
    cfg.write_text("inventory_path: lines.yaml\n")
    assert main(["-c", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'lines.yaml'}: the inventory file is empty (or only comments)" in err


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_values_are_what_safe_load_gives(loader: type, name: str) -> None:
    """Building from parser events changes nothing: every shipped file reads exactly as yaml.safe_load reads it."""
    path = REPO / "config" / name
    assert load_located(path).data == yaml.safe_load(path.read_text())

"""docker-compose.yml, checked offline (Docker cannot run here): valid against the compose specification that
check-jsonschema ships, every mounted or copied path exists, versions pinned, secrets from the environment,
least-privilege tokens created at init, the demo network opt-in."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
ENV_EXAMPLE = dict(
    line.split("=", 1)
    for line in (REPO / ".env.example").read_text().splitlines()
    if line.strip() and not line.lstrip().startswith("#")
)
_VAR_RE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def interpolate(text: str, env: dict[str, str]) -> str:
    """docker compose's variable substitution: ${VAR}, ${VAR:-default}, ${VAR:?error}; $$ is a literal $."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        value = env.get(name, "")
        if operator in (":-", "-") and not value:
            return argument or ""
        if operator in (":?", "?") and not value:
            raise KeyError(f"{name} is required: {argument}")
        return value

    return _VAR_RE.sub(replace, text.replace("$$", "\0")).replace("\0", "$")


def _bind_mounts() -> list[tuple[str, str]]:
    mounts = []
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = interpolate(volume if isinstance(volume, str) else volume["source"], ENV_EXAMPLE)
            source = source.split(":", 1)[0]
            if source.startswith((".", "/")):
                mounts.append((name, source))
    return mounts


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_catches_a_broken_file(tmp_path: Path) -> None:
    """Guards the test above: the vendored schema really rejects an invalid service."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        "services:\n  grafana:\n    image: grafana/grafana-oss:11.2.2\n    restart: sometimes\n"
        "    ports: 3000\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0


@pytest.mark.parametrize(("service", "source"), _bind_mounts(), ids=[f"{s}:{p}" for s, p in _bind_mounts()])
def test_every_mounted_path_exists(service: str, source: str) -> None:
    assert (REPO / source).exists(), f"{service} mounts {source}, which does not exist"


def test_every_variable_is_documented_in_env_example_or_has_a_default() -> None:
    text = COMPOSE_FILE.read_text()
    for match in _VAR_RE.finditer(text.replace("$$", "")):
        name, operator = match.group(1) or match.group(4), match.group(2)
        assert name in ENV_EXAMPLE or operator in (":-", "-"), (
            f"${{{name}}} is neither in .env.example nor defaulted"
        )


def test_required_secrets_fail_loudly_when_unset() -> None:
    with pytest.raises(KeyError, match="GRAFANA_ADMIN_PASSWORD"):
        interpolate(SERVICES["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"], {})
    with pytest.raises(KeyError, match="INFLUXDB_ADMIN_TOKEN"):
        interpolate(SERVICES["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"], {})


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_images_are_pinned(service: str) -> None:
    image = SERVICES[service]["image"]
    name, _, tag = image.rpartition(":")
    assert name and re.match(r"^\d+\.\d+\.\d+$", tag), (
        f"{service}: image {image!r} is not pinned to a version"
    )


def test_influxdb_is_2x_set_up_at_init_with_bucket_and_retention() -> None:
    influx = SERVICES["influxdb"]
    assert influx["image"].startswith("influxdb:2.")
    env = influx["environment"]
    assert env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    for key in ("USERNAME", "PASSWORD", "ADMIN_TOKEN", "ORG", "BUCKET", "RETENTION"):
        assert f"DOCKER_INFLUXDB_INIT_{key}" in env


def test_init_script_maps_the_v1_database_and_creates_least_privilege_tokens() -> None:
    script = (REPO / "docker" / "influxdb" / "init-linewatch.sh").read_text()
    assert "influx v1 dbrp create" in script
    tokens = dict(re.findall(r'^create_token (\w+) "[^"]*"(.*?)$', script.replace("\\\n", " "), re.MULTILINE))
    assert tokens.keys() == {"collector", "alerting", "grafana"}
    assert "--write-bucket" in tokens["collector"] and "--read-bucket" not in tokens["collector"]
    assert "--read-bucket" in tokens["grafana"] and "--write-bucket" not in tokens["grafana"]
    assert "--all-access" not in script and "--operator" not in script
    init = SERVICES["influxdb-init"]
    assert init["depends_on"]["influxdb"]["condition"] == "service_healthy"
    for client, token in (("grafana", "grafana"), ("collector", "collector"), ("alerting", "alerting")):
        assert SERVICES[client]["environment"]["INFLUX_TOKEN_FILE"].endswith(f"/{token}.token")


@pytest.mark.parametrize(
    "script",
    ["docker/influxdb/init-linewatch.sh", "docker/linewatch/entrypoint.sh", "docker/grafana/entrypoint.sh"],
)
def test_shell_scripts_parse(script: str) -> None:
    shell = "bash" if (REPO / script).read_text().startswith("#!/bin/bash") else "sh"
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not installed")
    result = subprocess.run(
        [shell, "-n", str(REPO / script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def test_grafana_admin_password_from_env_and_anonymous_viewer_configurable() -> None:
    env = SERVICES["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD")
    assert env["GF_AUTH_ANONYMOUS_ENABLED"].startswith("${GRAFANA_ANONYMOUS_ENABLED")
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


@pytest.mark.parametrize("service", ["influxdb", "grafana"])
def test_servers_have_health_checks_and_named_volumes(service: str) -> None:
    assert SERVICES[service]["healthcheck"]["test"]
    named = [v.split(":", 1)[0] for v in SERVICES[service]["volumes"] if not v.startswith((".", "/"))]
    assert named and set(named) <= set(COMPOSE["volumes"])


def test_collector_and_alerting_always_run_and_demo_network_is_opt_in() -> None:
    assert "profiles" not in SERVICES["collector"] and "profiles" not in SERVICES["alerting"]
    assert SERVICES["collector"]["command"][0] == "collect"
    assert SERVICES["alerting"]["command"][:2] == ["alerts", "run"]
    assert SERVICES["demo-network"]["profiles"] == ["demo"]
    assert SERVICES["demo-network"]["network_mode"] == "service:collector"


def test_dockerfile_copies_only_existing_paths() -> None:
    dockerfile = (REPO / "docker" / "linewatch" / "Dockerfile").read_text()
    copies = re.findall(r"^COPY\s+(.+?)\s+\S+$", dockerfile, re.MULTILINE)
    assert copies
    for sources in copies:
        for source in sources.split():
            assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"
    assert re.search(r"^FROM python:3\.11\.\d+-slim", dockerfile, re.MULTILINE)
    assert re.search(r"^USER linewatch$", dockerfile, re.MULTILINE)


FAKE_INFLUX_CLI = """\
#!/bin/bash
# Stand-in for the influx CLI: logs each call, answers like influx 2.7 for the calls init-linewatch.sh makes.
echo "$*" >> "$FAKE_STATE/calls"
case "$1 $2 $3" in
  "bucket list "*) printf 'b0c4e7\\t%s\\t400d\\n' "$INFLUXDB_BUCKET" ;;
  "v1 dbrp list") cat "$FAKE_STATE/dbrp" 2>/dev/null || true ;;
  "v1 dbrp create") printf 'm1\\tlinewatch\\tautogen\\tb0c4e7\\ttrue\\n' > "$FAKE_STATE/dbrp" ;;
  "auth create "*) n=$(grep -c '^auth create' "$FAKE_STATE/calls")
                   printf '{\\n  "id": "a%s",\\n  "token": "tok-%s==",\\n  "status": "active"\\n}\\n' "$n" "$n" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""


def test_init_script_is_idempotent_and_writes_one_readable_token_per_client(tmp_path: Path) -> None:
    """Run twice against a stand-in influx CLI: one DBRP mapping, three tokens, nothing recreated."""
    if shutil.which("bash") is None:
        pytest.skip("bash not installed")
    bin_dir, state, tokens = tmp_path / "bin", tmp_path / "state", tmp_path / "tokens"
    bin_dir.mkdir()
    state.mkdir()
    (bin_dir / "influx").write_text(FAKE_INFLUX_CLI)
    (bin_dir / "influx").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "FAKE_STATE": str(state),
        "INFLUX_HOST": "http://influxdb:8086",
        "INFLUX_TOKEN": "operator",
        "INFLUX_ORG": "linewatch",
        "INFLUXDB_BUCKET": "linewatch",
        "LINEWATCH_INFLUX_DATABASE": "linewatch",
        "TOKEN_DIR": str(tokens),
    }
    script = str(REPO / "docker" / "influxdb" / "init-linewatch.sh")
    for _ in range(2):
        result = subprocess.run(
            ["bash", script], env=env, capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
    calls = (state / "calls").read_text().splitlines()
    assert sum(c.startswith("v1 dbrp create") for c in calls) == 1
    creates = [c for c in calls if c.startswith("auth create")]
    assert len(creates) == 3
    assert {p.name: p.read_text() for p in tokens.iterdir()} == {
        "collector.token": "tok-1==",
        "alerting.token": "tok-2==",
        "grafana.token": "tok-3==",
    }
    assert all(p.stat().st_mode & 0o777 == 0o444 for p in tokens.iterdir())
    assert "--write-bucket b0c4e7" in creates[0] and "--read-bucket" not in creates[0]
    assert "--read-bucket b0c4e7" in creates[2] and "--write-bucket" not in creates[2]


def test_build_context_sends_only_what_the_dockerfile_copies() -> None:
    """The Dockerfile's own .dockerignore allow-lists exactly the COPY sources (no .venv or run/ in the context)."""
    dockerfile = (REPO / "docker" / "linewatch" / "Dockerfile").read_text()
    copied = {
        s.rstrip("/")
        for c in re.findall(r"^COPY\s+(.+?)\s+\S+$", dockerfile, re.MULTILINE)
        for s in c.split()
    }
    ignore = (REPO / "docker" / "linewatch" / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore
    assert all(any(c == a or c.startswith(a + "/") for a in allowed) for c in copied), copied


@pytest.mark.parametrize(
    ("age_s", "healthy"),
    [
        pytest.param(30, True, id="cycle-finished-recently"),
        pytest.param(4 * 60, True, id="four-intervals-old"),
        pytest.param(6 * 60, False, id="collector-silent-for-six-intervals"),
        pytest.param(None, False, id="no-cycle-finished-yet"),
    ],
)
def test_collector_health_check_follows_the_state_file_saved_every_cycle(
    tmp_path: Path, age_s: int | None, healthy: bool
) -> None:
    """The collector's health check, run as compose would (its environment, .env.example values): healthy while
    the counter state file, saved at the end of every poll cycle (collector.service.run_cycle), is fresh."""
    service = SERVICES["collector"]
    argv = service["healthcheck"]["test"]
    assert argv[:2] == ["CMD", "python"]
    env = {key: interpolate(str(value), ENV_EXAMPLE) for key, value in service["environment"].items()}
    state = tmp_path / "collector-state.json"
    env["LINEWATCH_COLLECTOR__STATE_PATH"] = str(state)  # the container path, moved into the test's temp dir
    if age_s is not None:
        state.write_text("{}")
        old = state.stat().st_mtime - age_s
        os.utime(state, (old, old))
    result = subprocess.run(
        [sys.executable, *argv[2:]], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert (result.returncode == 0) is healthy, result.stderr

"""docker-compose.yml, checked offline (Docker cannot run here): valid against the compose specification that
check-jsonschema ships, every mounted or copied path exists, versions pinned, ports on 127.0.0.1 by default,
secrets from .env as compose secrets with one InfluxDB credential per client, anonymous access only in the
opt-in wall Grafana that has no finance dashboards, the demo network opt-in. The entry points themselves are run
in tests/docker/test_docker_entrypoints.py."""

from __future__ import annotations

import json
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


def test_every_secret_comes_from_a_documented_env_variable() -> None:
    """Compose secrets are read from .env variables (compose refuses to start when one is unset); each is in
    .env.example, and nothing secret is passed as a plain environment variable any more."""
    sources = {name: spec["environment"] for name, spec in COMPOSE["secrets"].items()}
    assert set(sources.values()) <= set(ENV_EXAMPLE)
    for service in SERVICES.values():
        for key in service.get("environment", {}):
            assert not re.search(r"PASSWORD$|TOKEN$", key), (
                f"{key} is a secret in the environment; use secrets:"
            )


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_images_are_pinned(service: str) -> None:
    image = SERVICES[service]["image"]
    name, _, tag = image.rpartition(":")
    # PostgreSQL releases are MAJOR.MINOR (16.4 is one exact release); the others MAJOR.MINOR.PATCH.
    version = r"^\d+\.\d+$" if name == "postgres" else r"^\d+\.\d+\.\d+$"
    assert name and re.match(version, tag), (
        f"{service}: image {image!r} is not pinned to a version"
    )


def test_influxdb_is_2x_set_up_at_init_with_bucket_and_retention() -> None:
    influx = SERVICES["influxdb"]
    assert influx["image"].startswith("influxdb:2.")
    env = influx["environment"]
    assert env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    for key in ("USERNAME", "PASSWORD_FILE", "ADMIN_TOKEN_FILE", "ORG", "BUCKET", "RETENTION"):
        assert f"DOCKER_INFLUXDB_INIT_{key}" in env
    assert influx["command"] == ["influxd"]


def test_init_script_maps_the_v1_database_and_creates_least_privilege_credentials() -> None:
    script = (REPO / "docker" / "influxdb" / "init-linewatch.sh").read_text()
    assert "influx v1 dbrp create" in script
    clients = {
        c: a.split() for c, a in re.findall(r'^\s+"(\w+)\|[\w-]+\|\w+\|([a-z ]+)"$', script, re.MULTILINE)
    }
    assert clients == {"collector": ["write"], "alerting": ["read", "write"], "grafana": ["read"]}
    assert "--all-access" not in script and "--operator" not in script
    assert SERVICES["influxdb-init"]["depends_on"]["influxdb"]["condition"] == "service_healthy"


@pytest.mark.parametrize(
    "script",
    [
        "docker/influxdb/init-linewatch.sh",
        "docker/influxdb/entrypoint.sh",
        "docker/linewatch/entrypoint.sh",
        "docker/grafana/entrypoint.sh",
        "docker/common/secrets.sh",
    ],
)
def test_shell_scripts_parse(script: str) -> None:
    text = (REPO / script).read_text()
    shell = "bash" if text.startswith("#!/bin/bash") or "shell=bash" in text else "sh"
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not installed")
    result = subprocess.run(
        [shell, "-n", str(REPO / script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def _published(service: str, env: dict[str, str]) -> list[str]:
    return [interpolate(port, env) for port in SERVICES[service]["ports"]]


@pytest.mark.parametrize(
    "env", [pytest.param({}, id="no-env-file"), pytest.param(ENV_EXAMPLE, id="env-example")]
)
@pytest.mark.parametrize("service", ["influxdb", "grafana", "grafana-wall"])
def test_grafana_published_on_every_interface_is_bound_to_localhost_by_default(
    service: str, env: dict[str, str]
) -> None:
    """Like InfluxDB, both Grafanas are published on 127.0.0.1 unless .env binds them elsewhere."""
    for port in _published(service, env):
        assert port.startswith("127.0.0.1:"), f"{service} publishes {port}"
    bind = {"influxdb": "INFLUXDB_BIND", "grafana": "GRAFANA_BIND", "grafana-wall": "GRAFANA_WALL_BIND"}[
        service
    ]
    assert all(p.startswith("192.0.2.10:") for p in _published(service, {**env, bind: "192.0.2.10"}))


def test_anonymous_viewer_is_off_unless_the_wall_is_configured() -> None:
    """The grafana service (every dashboard, finance included) never allows anonymous access; the anonymous wall
    Grafana only runs when its profile is enabled."""
    grafana = SERVICES["grafana"]
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "profiles" not in grafana
    wall = SERVICES["grafana-wall"]
    assert wall["profiles"] == ["wall"]
    assert wall["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert wall["environment"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert wall["environment"]["GF_AUTH_DISABLE_LOGIN_FORM"] == "true"
    assert wall["environment"]["GF_AUTH_BASIC_ENABLED"] == "false"
    assert "GRAFANA_ANONYMOUS_ENABLED" not in COMPOSE_FILE.read_text()


def test_anonymous_wall_never_gets_the_finance_dashboards() -> None:
    """The wall Grafana mounts dashboards one file at a time, none tagged finance, into the one folder its only
    provider loads; it does not see the main provisioning (whose provider loads every dashboard)."""
    wall = SERVICES["grafana-wall"]
    mounts = [interpolate(v, ENV_EXAMPLE).split(":")[:2] for v in wall["volumes"]]
    (provisioning,) = [s for s, t in mounts if t == "/etc/grafana/provisioning/dashboards"]
    (provider,) = yaml.safe_load((REPO / provisioning / "wall.yaml").read_text())["providers"]
    wall_dir = provider["options"]["path"]
    dashboards = {t: s for s, t in mounts if t.startswith(wall_dir + "/")}
    assert sorted(Path(t).name for t in dashboards) == ["collector.json", "line.json", "noc.json"]
    for target, source in dashboards.items():
        model = json.loads((REPO / source).read_text())
        assert "finance" not in model.get("tags", []), f"{source} is a finance dashboard"
        assert Path(source).name == Path(target).name
    assert not any(t == "/etc/grafana/provisioning" for _, t in mounts)
    assert not any(s.rstrip("/") == "./grafana/dashboards" for s, _ in mounts)
    finance = json.loads((REPO / "grafana" / "dashboards" / "finance.json").read_text())
    assert "finance" in finance["tags"], "the finance dashboard must carry the tag the entry point checks"


@pytest.mark.parametrize("service", ["grafana", "grafana-wall"])
def test_grafana_secrets_readable_by_grafana_only(service: str) -> None:
    secrets = {s["source"]: s for s in SERVICES[service]["secrets"]}
    assert set(secrets) == {"grafana_admin_password", "grafana_influx_password"}
    assert all(s["uid"] == "472" and s["mode"] == 0o400 for s in secrets.values())
    assert SERVICES[service]["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == (
        "/run/secrets/grafana_admin_password"
    )


CLIENT_SECRETS = {
    "collector": "collector_influx_password",
    "demo-network": "collector_influx_password",
    "alerting": "alerting_influx_password",
    "grafana": "grafana_influx_password",
    "grafana-wall": "grafana_influx_password",
}


@pytest.mark.parametrize("service", sorted(CLIENT_SECRETS))
def test_influx_tokens_in_one_volume_mounted_everywhere_replaced_by_one_secret_per_client(
    service: str,
) -> None:
    """Each InfluxDB client gets its own credential's secret, and no other client's, readable only by the
    container's user; no token volume is shared between containers any more."""
    entries = SERVICES[service].get("secrets", [])
    influx = [s for s in entries if s["source"].endswith("_influx_password")]
    assert [s["source"] for s in influx] == [CLIENT_SECRETS[service]]
    assert influx[0]["target"] == "influx_password" and influx[0]["mode"] == 0o400
    assert all(s["source"] != "influxdb_admin_token" for s in entries)
    assert SERVICES[service]["environment"]["INFLUX_PASSWORD_FILE"] == "/run/secrets/influx_password"
    expected_uid = "472" if service.startswith("grafana") else "10001"
    assert influx[0]["uid"] == expected_uid
    assert "influx-tokens" not in COMPOSE["volumes"]
    assert not any("tokens" in str(v) for v in SERVICES[service].get("volumes", []))


def test_linewatch_image_user_has_the_uid_and_gid_the_secrets_are_given_to() -> None:
    dockerfile = (REPO / "docker" / "linewatch" / "Dockerfile").read_text()
    assert "groupadd --system --gid 10001 linewatch" in dockerfile
    assert "useradd --system --uid 10001 --gid 10001" in dockerfile


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

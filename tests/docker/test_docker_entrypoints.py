"""The container entry points, run for real with bash as docker compose would start them (Docker cannot run here).

Each service's environment and secrets come from docker-compose.yml, interpolated with .env values. The files a
service mounts (its entry point, the shared secrets library, provisioning, dashboards, compose secrets under
/run/secrets) are laid out below a temporary folder standing for the container's root, and container paths in
the environment are moved there. Only the final ``exec`` is stubbed (Grafana's /run.sh, the influxdb image's
/entrypoint.sh, the ``linewatch`` command) and, for influxdb-init, the influx CLI, which has no InfluxDB 2 here.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SECRET_SOURCES: dict[str, str] = {name: spec["environment"] for name, spec in COMPOSE["secrets"].items()}
ENV_EXAMPLE: dict[str, str] = dict(
    line.split("=", 1)
    for line in (REPO / ".env.example").read_text().splitlines()
    if line.strip() and not line.lstrip().startswith("#")
)
PLACEHOLDER_VARIABLES = sorted(k for k, v in ENV_EXAMPLE.items() if v.lower().startswith("change-me"))
# .env as an operator fills it in: every placeholder replaced by a random secret.
GOOD_ENV: dict[str, str] = {
    k: (secrets.token_hex(16) if k in PLACEHOLDER_VARIABLES else v) for k, v in ENV_EXAMPLE.items()
}
LINEWATCH_ENTRYPOINT = (
    "docker/linewatch/entrypoint.sh"  # the image's ENTRYPOINT (docker/linewatch/Dockerfile)
)
# The ENTRYPOINT of each image built from docker/linewatch/Dockerfile (its targets linewatch and web).
IMAGE_ENTRYPOINTS = {"linewatch:0.1.0": LINEWATCH_ENTRYPOINT, "linewatch-web:0.1.0": "docker/web/entrypoint.sh"}
STUB_MARKER = "stub-started"
BASH = shutil.which("bash") or "bash"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
_VAR_RE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")


def interpolate(text: str, env: dict[str, str]) -> str:
    return _VAR_RE.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), text)


def bind_mounts(service: str) -> list[tuple[Path, str]]:
    """(repo path, container path) of every bind mount of ``service``."""
    mounts = []
    for volume in SERVICES[service].get("volumes", []):
        source, target = interpolate(volume, GOOD_ENV).split(":")[:2]
        if source.startswith("."):
            mounts.append((REPO / source, target))
    return mounts


def entrypoint_script(service: str) -> Path:
    """The repository file the service runs as its entry point."""
    entrypoint = SERVICES[service].get("entrypoint")
    if entrypoint is None:
        return REPO / IMAGE_ENTRYPOINTS[SERVICES[service]["image"]]
    assert entrypoint[0] == "/bin/bash", entrypoint
    (source,) = [src for src, target in bind_mounts(service) if target == entrypoint[1]]
    return source


def service_secrets(service: str) -> list[tuple[str, str]]:
    """(.env variable, file name under /run/secrets) of each compose secret the service gets."""
    found = []
    for entry in SERVICES[service].get("secrets", []):
        source = entry if isinstance(entry, str) else entry["source"]
        target = source if isinstance(entry, str) else entry.get("target", source)
        found.append((SECRET_SOURCES[source], target))
    return found


@dataclass
class Started:
    returncode: int
    stdout: str
    stderr: str
    root: Path

    @property
    def started(self) -> bool:
        return STUB_MARKER in self.stdout


def _stub(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)
    return path


def start(
    service: str, dotenv: dict[str, str], tmp_path: Path, *, busybox: bool = False, **overrides: str
) -> Started:
    """Run ``service``'s entry point the way compose starts it, with ``dotenv`` as .env. ``busybox``: with only
    BusyBox's tools on PATH (besides bash), like the Alpine-based Grafana image."""
    root = tmp_path / "root"
    shutil.rmtree(root, ignore_errors=True)
    for source, target in bind_mounts(service):
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        else:
            shutil.copy(source, destination)
    for provider in (root / "etc/grafana/provisioning/dashboards").glob("*.yaml"):
        provider.write_text(re.sub(r"(path:\s*)/", rf"\g<1>{root}/", provider.read_text()))
    for variable, target in service_secrets(service):
        secret = root / "run/secrets" / target
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(dotenv.get(variable, ""))
        secret.chmod(0o400)
    bin_dir = tmp_path / "bin"
    report = f'echo {STUB_MARKER} "$@"; echo "influx=${{LINEWATCH_INFLUX__TOKEN:-}}"; ' \
             'echo "grafana=${LINEWATCH_GRAFANA_INFLUX_TOKEN:-}"; env\n'  # fmt: skip
    _stub(bin_dir / "linewatch", report)
    _stub(bin_dir / "python", report)
    _stub(bin_dir / "gunicorn", report)
    path = f"{bin_dir}:/usr/bin:/bin"
    if busybox:
        tools = tmp_path / "busybox"
        tools.mkdir(exist_ok=True)
        for applet in ("cat", "env", "find", "grep", "id", "sed", "tr"):
            (tools / applet).unlink(missing_ok=True)
            (tools / applet).symlink_to(BUSYBOX)
        path = f"{bin_dir}:{tools}"
    env = {
        "PATH": path,
        "LINEWATCH_SECRETS_LIB": str(REPO / "docker" / "common" / "secrets.sh"),
        "GF_PATHS_PROVISIONING": str(root / "etc/grafana/provisioning"),
        "GRAFANA_RUN": str(_stub(tmp_path / "run.sh", report)),
        "INFLUXDB_IMAGE_ENTRYPOINT": str(_stub(tmp_path / "entrypoint.sh", report)),
        "POSTGRES_IMAGE_ENTRYPOINT": str(_stub(tmp_path / "docker-entrypoint.sh", report)),
    }
    for key, value in SERVICES[service].get("environment", {}).items():
        value = interpolate(str(value), dotenv)
        in_secrets = value == "/run/secrets" or value.startswith("/run/secrets/")
        env[key] = f"{root}{value}" if in_secrets else value
    env.update(overrides)
    command = SERVICES[service].get("command", [])
    result = subprocess.run(
        [BASH, str(entrypoint_script(service)), *command],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return Started(result.returncode, result.stdout, result.stderr, root)


def _influx_stub(tmp_path: Path) -> dict[str, str]:
    """A stand-in influx CLI for influxdb-init (no InfluxDB 2 here): logs each call, answers like influx 2.7."""
    state = tmp_path / "influx-state"
    state.mkdir()
    _stub(
        tmp_path / "bin" / "influx",
        f'state={state}\necho "$*" >> "$state/calls"\n'
        'case "$1 $2 $3" in\n'
        '  "bucket list "*) printf "b0c4e7\\t%s\\t400d\\n" "$INFLUXDB_BUCKET" ;;\n'
        '  "v1 dbrp list") cat "$state/dbrp" 2>/dev/null || true ;;\n'
        '  "v1 dbrp create") echo m1 > "$state/dbrp" ;;\n'
        '  "v1 auth list") grep -qx -- "$5" "$state/users" 2>/dev/null && printf "a1\\t\\t%s\\n" "$5" || true ;;\n'
        '  "v1 auth create") echo "$5" >> "$state/users" ;;\n'
        '  "v1 auth set-password") ;;\n'
        '  *) echo "unexpected: $*" >&2; exit 2 ;;\n'
        "esac\n",
    )
    return {"state": str(state)}


def _secret_variables(service: str) -> list[str]:
    return [variable for variable, _ in service_secrets(service)]


CASES = [
    pytest.param(service, variable, id=f"{service}-{variable}")
    for service in SERVICES
    for variable in _secret_variables(service)
]


# -- regression: .env.example ships usable change-me passwords ------------------------------------------------


def test_env_example_secrets_are_all_change_me_placeholders() -> None:
    """Every variable a compose secret comes from is in .env.example, as a change-me placeholder."""
    assert set(SECRET_SOURCES.values()) <= set(PLACEHOLDER_VARIABLES)


@pytest.mark.parametrize(("service", "variable"), CASES)
def test_change_me_placeholder_is_refused_at_start_naming_the_variable(
    tmp_path: Path, service: str, variable: str
) -> None:
    """A service whose secret is still the .env.example placeholder does not start, and says which .env
    variable to set (without printing the value)."""
    if service == "influxdb-init":
        _influx_stub(tmp_path)
    dotenv = {**GOOD_ENV, variable: ENV_EXAMPLE[variable]}
    result = start(service, dotenv, tmp_path)
    assert result.returncode != 0 and not result.started, result.stdout + result.stderr
    assert f"refusing to start: {variable}" in result.stderr
    assert ENV_EXAMPLE[variable] not in result.stderr + result.stdout
    if service == "influxdb-init":
        assert not (tmp_path / "influx-state" / "calls").exists(), "InfluxDB was touched before the check"


@pytest.mark.parametrize(("service", "variable"), CASES)
def test_short_secret_is_refused_naming_the_variable(tmp_path: Path, service: str, variable: str) -> None:
    if service == "influxdb-init":
        _influx_stub(tmp_path)
    result = start(service, {**GOOD_ENV, variable: "s3cr3t"}, tmp_path)
    assert result.returncode != 0 and not result.started
    assert f"refusing to start: {variable}" in result.stderr and "shorter than 8 characters" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout


@pytest.mark.parametrize("service", [s for s in SERVICES if _secret_variables(s)])
def test_env_example_as_shipped_does_not_start(tmp_path: Path, service: str) -> None:
    if service == "influxdb-init":
        _influx_stub(tmp_path)
    result = start(service, ENV_EXAMPLE, tmp_path)
    assert result.returncode != 0 and not result.started
    assert "change-me placeholder from .env.example" in result.stderr


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "influxdb-init"])
def test_service_starts_with_real_secrets(tmp_path: Path, service: str) -> None:
    result = start(service, GOOD_ENV, tmp_path)
    assert result.returncode == 0 and result.started, result.stdout + result.stderr
    command = [str(a) for a in SERVICES[service].get("command", [])]
    if command[:1] in (["python"], ["gunicorn"]):  # run by the entry point itself: the stub stands for it
        command = command[1:]
    elif IMAGE_ENTRYPOINTS.get(SERVICES[service].get("image", "")) == "docker/web/entrypoint.sh":
        command = ["web", *command]  # the web image runs any other command as `linewatch web COMMAND`
    # The last program started is the command (the web service runs `linewatch web migrate` etc. before it).
    started = [line for line in result.stdout.splitlines() if line.startswith(STUB_MARKER)]
    assert started[-1].split()[1:] == command


# -- regression: all three InfluxDB tokens in one volume mounted into every container --------------------------

CLIENT_CREDENTIALS = {
    "collector": ("linewatch-collector", "LINEWATCH_COLLECTOR_INFLUX_PASSWORD", "influx"),
    "demo-network": ("linewatch-collector", "LINEWATCH_COLLECTOR_INFLUX_PASSWORD", "influx"),
    "alerting": ("linewatch-alerting", "LINEWATCH_ALERTING_INFLUX_PASSWORD", "influx"),
    "grafana": ("linewatch-grafana", "LINEWATCH_GRAFANA_INFLUX_PASSWORD", "grafana"),
    "grafana-wall": ("linewatch-grafana", "LINEWATCH_GRAFANA_INFLUX_PASSWORD", "grafana"),
}


@pytest.mark.parametrize("service", sorted(CLIENT_CREDENTIALS))
def test_each_client_gets_only_its_own_influx_credential(tmp_path: Path, service: str) -> None:
    """The client's entry point builds its v1 credential from its own secret, and no other client's password
    (nor the operator token) is in the container at all."""
    user, variable, setting = CLIENT_CREDENTIALS[service]
    result = start(service, GOOD_ENV, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{setting}={user}:{GOOD_ENV[variable]}" in result.stdout.splitlines()
    others = {GOOD_ENV[v] for v in SECRET_SOURCES.values() if v not in _secret_variables(service)}
    present = {p.read_text() for p in (result.root / "run" / "secrets").iterdir()}
    assert not present & others, f"{service} holds another service's secret file"
    assert not any(secret in result.stdout for secret in others), f"{service} has another secret in its env"


def test_init_creates_one_least_privilege_credential_per_client_and_rotates_on_rerun(tmp_path: Path) -> None:
    """influxdb-init, run twice: one DBRP mapping, one v1 credential per client with the password of its own
    secret and only the permissions it needs; the second run sets the passwords again instead of duplicating."""
    _influx_stub(tmp_path)
    for _ in range(2):
        result = start("influxdb-init", GOOD_ENV, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
    calls = (tmp_path / "influx-state" / "calls").read_text().splitlines()
    assert sum(c.startswith("v1 dbrp create") for c in calls) == 1
    creates = {c.split("--username ")[1].split()[0]: c for c in calls if c.startswith("v1 auth create")}
    assert set(creates) == {"linewatch-collector", "linewatch-alerting", "linewatch-grafana"}
    expected = {
        "linewatch-collector": ("LINEWATCH_COLLECTOR_INFLUX_PASSWORD", ["--write-bucket b0c4e7"]),
        "linewatch-alerting": ("LINEWATCH_ALERTING_INFLUX_PASSWORD", ["--read-bucket b0c4e7", "--write-bucket b0c4e7"]),
        "linewatch-grafana": ("LINEWATCH_GRAFANA_INFLUX_PASSWORD", ["--read-bucket b0c4e7"]),
    }  # fmt: skip
    for user, (variable, permissions) in expected.items():
        call = creates[user]
        assert f"--password {GOOD_ENV[variable]} " in call
        assert sorted(re.findall(r"--(?:read|write)-bucket \S+", call)) == sorted(permissions), call
    rotated = [c for c in calls if c.startswith("v1 auth set-password")]
    assert len(rotated) == 3 and len(creates) == 3
    assert all("--all-access" not in c and "--operator" not in c for c in calls)


# -- regression: anonymous Viewer sees the finance dashboards -------------------------------------------------


# The Grafana image is Alpine: its grep, find and sed are BusyBox's (installed by scripts/ensure-sysdeps.sh).
USERLANDS = [
    pytest.param(False, id="gnu"),
    pytest.param(
        True,
        id="busybox",
        marks=pytest.mark.skipif(not Path(BUSYBOX).exists(), reason="busybox not installed"),
    ),
]


@pytest.mark.parametrize("busybox", USERLANDS)
def test_anonymous_grafana_refuses_to_start_with_finance_dashboards(tmp_path: Path, busybox: bool) -> None:
    """Turning anonymous access on for the grafana service (which loads every dashboard) does not start it:
    anonymous viewers never get the finance dashboards."""
    result = start("grafana", GOOD_ENV, tmp_path, busybox=busybox, GF_AUTH_ANONYMOUS_ENABLED="true")
    assert result.returncode != 0 and not result.started
    assert "anonymous access is on" in result.stderr and "finance.json" in result.stderr


@pytest.mark.parametrize("busybox", USERLANDS)
def test_wall_grafana_starts_anonymous_without_finance(tmp_path: Path, busybox: bool) -> None:
    result = start("grafana-wall", GOOD_ENV, tmp_path, busybox=busybox)
    assert result.returncode == 0 and result.started, result.stderr
    wall = result.root / "var/lib/grafana/dashboards/wall"
    assert sorted(p.name for p in wall.iterdir()) == ["collector.json", "line.json", "noc.json"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_secrets_library_is_where_the_entry_point_looks_for_it(service: str) -> None:
    script = entrypoint_script(service)
    match = re.search(r"LINEWATCH_SECRETS_LIB:-([^}]+)\}", script.read_text())
    assert match, f"{script} does not source the secrets library"
    if SERVICES[service].get("entrypoint") is None:
        dockerfile = (REPO / "docker" / "linewatch" / "Dockerfile").read_text()
        assert f"COPY docker/common/secrets.sh {match.group(1)}" in dockerfile
    else:
        assert (REPO / "docker" / "common" / "secrets.sh", match.group(1)) in bind_mounts(service)

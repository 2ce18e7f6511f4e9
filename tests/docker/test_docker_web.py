"""The web service of docker-compose.yml, its entry point run for real (Docker cannot run here) against the session
PostgreSQL (``postgres_server``): secrets from compose secrets, ``linewatch web migrate``, collectstatic, the
first-start import of the configuration folder, gunicorn, and the compose health check answering; then the
collectors' /api/inventory.json with the inventory token they get; a second start imports nothing. Also: the compose wiring of web, postgres,
collector and alerting (secrets per service, health checks, depends_on)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from test_docker_entrypoints import GOOD_ENV, REPO, SERVICES, bind_mounts, interpolate, service_secrets

from linewatch.servers.ports import free_tcp_port

VENV_BIN = Path(sys.executable).parent
CONTAINER_DIRS = ("/run/secrets", "/etc/linewatch", "/var/lib/linewatch")


def _layout(service: str, dotenv: dict[str, str], root: Path) -> dict[str, str]:
    """The service's mounts and secrets under ``root``; its environment with container paths moved there."""
    for source, target in bind_mounts(service):
        destination = root / target.lstrip("/")
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, destination)
    (root / "var/lib/linewatch").mkdir(parents=True, exist_ok=True)
    for variable, target in service_secrets(service):
        secret = root / "run/secrets" / target
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(dotenv[variable])
        secret.chmod(0o400)
    env = {}
    for key, value in SERVICES[service]["environment"].items():
        value = interpolate(str(value), dotenv)
        env[key] = f"{root}{value}" if value.startswith(CONTAINER_DIRS) else value
    return env


def _compose_command(service: str, port: int) -> list[str]:
    return [interpolate(str(a), GOOD_ENV).replace("0.0.0.0:8000", f"127.0.0.1:{port}")
            for a in SERVICES[service]["command"]]


@pytest.mark.slow
def test_web_entry_point_migrates_imports_serves_and_passes_its_health_check(tmp_path, postgres_server, postgres_db):
    pg = postgres_server.connection_params(postgres_db)
    dotenv = {**GOOD_ENV, "POSTGRES_PASSWORD": str(pg["password"]),
              "LINEWATCH_WEB_CREDENTIALS_KEY": Fernet.generate_key().decode()}
    env = _layout("web", dotenv, tmp_path / "root")
    env |= {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LINEWATCH_SECRETS_LIB": str(REPO / "docker/common/secrets.sh"),
        # What the image's target web sets (docker/linewatch/Dockerfile).
        "PYTHONPATH": f"{REPO / 'docker/web'}:{REPO}",
        "DJANGO_SETTINGS_MODULE": "linewatch_docker_settings",
        # The compose network's postgres service is the session cluster here.
        "POSTGRES_HOST": str(pg["host"]), "POSTGRES_PORT": str(pg["port"]), "POSTGRES_USER": str(pg["user"]),
        "POSTGRES_DB": postgres_db,
    }
    port = free_tcp_port()
    log = (tmp_path / "web.log").open("w+")
    process = subprocess.Popen(["bash", str(REPO / "docker/web/entrypoint.sh"), *_compose_command("web", port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # migrate + import + gunicorn on a loaded 2-core machine
        while True:
            assert process.poll() is None, _tail(log)
            try:
                if requests.get(f"{base}/-/health", timeout=10).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, _tail(log)
            time.sleep(1)
        health = requests.get(f"{base}/-/health", timeout=10)
        assert health.json() == {"status": "ok"} and health.headers["Cache-Control"].startswith("max-age=0")

        # The compose health check itself, as compose runs it in the container.
        check = SERVICES["web"]["healthcheck"]["test"]
        assert check[:2] == ["CMD", "python"]
        argv = [a.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for a in check[2:]]
        result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr

        # The collectors' request: the inventory token of their secret, plain HTTP inside the compose network.
        inventory = requests.get(f"{base}/api/inventory.json", timeout=30,
                                 headers={"Authorization": f"Bearer {dotenv['LINEWATCH_INVENTORY_TOKEN']}"})
        assert inventory.status_code == 200, inventory.text[:500]
        imported = {line["id"] for line in inventory.json()["lines"]}
        import yaml

        shipped = {line["id"] for line in yaml.safe_load((REPO / "config/lines.yaml").read_text())["lines"]}
        assert imported == shipped
        # Browsers are sent to HTTPS (the production settings: a TLS proxy in front).
        assert requests.get(f"{base}/login/", timeout=10, allow_redirects=False).status_code == 301
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    # A later start (here its command asks gunicorn only for its version) migrates again and imports nothing:
    # what was changed in the app is kept.
    again = subprocess.run(["bash", str(REPO / "docker/web/entrypoint.sh"), "gunicorn", "--version"], env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0 and "gunicorn" in again.stdout, again.stdout[-3000:] + again.stderr[-3000:]
    assert "first start" not in again.stderr
    output = _tail(log, 10**6) + again.stdout + again.stderr
    for variable in ("POSTGRES_PASSWORD", "LINEWATCH_WEB_SECRET_KEY", "LINEWATCH_WEB_CREDENTIALS_KEY",
                     "LINEWATCH_INVENTORY_TOKEN"):
        assert dotenv[variable] not in output, f"{variable}'s value is in the service's output"
    assert "first start: importing the inventory" in output


def _tail(log, size: int = 6000) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-size:]


# -- the compose wiring ------------------------------------------------------------------------------------------

SERVICE_SECRETS = {
    "postgres": {"postgres_password"},
    "web": {"postgres_password", "web_secret_key", "web_credentials_key", "inventory_token"},
    "collector": {"collector_influx_password", "inventory_token"},
    "alerting": {"alerting_influx_password", "inventory_token"},
}


@pytest.mark.parametrize("service", sorted(SERVICE_SECRETS))
def test_each_service_gets_exactly_its_secrets_readable_by_its_user_only(service):
    entries = {e["source"]: e for e in SERVICES[service]["secrets"]}
    assert set(entries) == SERVICE_SECRETS[service]
    uid = "999" if service == "postgres" else "10001"  # the postgres image's user; the linewatch images' user
    assert all(e["uid"] == uid and e["mode"] == 0o400 for e in entries.values())


def test_postgres_is_pinned_has_a_volume_a_pg_isready_check_and_is_not_published():
    postgres = SERVICES["postgres"]
    assert postgres["image"].startswith("postgres:16.")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.startswith("postgres-data:/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "ports" not in postgres


def test_web_waits_for_a_healthy_postgres_is_published_on_localhost_and_the_collectors_wait_for_it():
    web = SERVICES["web"]
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert [interpolate(p, {}) for p in web["ports"]] == ["127.0.0.1:8000:8000"]
    assert web["build"]["target"] == "web"
    for client in ("collector", "alerting"):
        service = SERVICES[client]
        assert service["depends_on"]["web"]["condition"] == "service_healthy"
        assert service["depends_on"]["influxdb-init"]["condition"] == "service_completed_successfully"
        env = service["environment"]
        assert env["LINEWATCH_INVENTORY__SOURCE"] == "http"
        assert env["LINEWATCH_INVENTORY__URL"] == "http://web:8000/api/inventory.json"
        assert env["LINEWATCH_INVENTORY__CACHE_PATH"].startswith("/var/lib/linewatch/")  # the state volume


def test_allowed_hosts_default_lets_the_collectors_reach_the_app_by_its_service_name():
    hosts = json.loads(interpolate(SERVICES["web"]["environment"]["LINEWATCH_WEB__ALLOWED_HOSTS"], {}))
    assert "web" in hosts and "127.0.0.1" in hosts


def test_collector_exports_the_inventory_token_of_its_secret(tmp_path):
    from test_docker_entrypoints import start

    result = start("collector", GOOD_ENV, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"LINEWATCH_INVENTORY__TOKEN={GOOD_ENV['LINEWATCH_INVENTORY_TOKEN']}" in result.stdout.splitlines()

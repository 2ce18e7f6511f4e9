"""Login security through the real login form: lockout (django-axes), CSRF, session idle timeout, security
headers and CSP, and the login log (login, logout, failed login, lockout; never a password)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from linewatch.choices import LoginEventKind
from web.accounts.logins.models import LoginEvent
from web.audit.models import AuditRowImmutable

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
WRONG = "wrong-secret-pw-42"


@pytest.fixture
def kim(django_user_model):
    user = django_user_model.objects.create_user("kim", password=PASSWORD)
    return user


def _login(client: Client, password: str, *, addr: str = "127.0.0.1", name: str = "kim", **extra):
    return client.post("/login/", {"username": name, "password": password}, REMOTE_ADDR=addr, **extra)


def _fail(client: Client, times: int, **kw) -> list:
    return [_login(client, WRONG, **kw) for _ in range(times)]


def test_fifth_failed_login_locks_user_and_address(client: Client, kim):
    responses = _fail(client, 5)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429 and b"Account locked" in responses[4].content
    locked = _login(client, PASSWORD)
    assert locked.status_code == 429 and "_auth_user_id" not in client.session


def test_lockout_is_per_user_and_address(client: Client, kim, django_user_model):
    django_user_model.objects.create_user("lee", password=PASSWORD)
    _fail(client, 5)
    assert _login(Client(), PASSWORD, addr="192.0.2.7").status_code == 302  # kim from another address
    assert _login(Client(), PASSWORD, name="lee").status_code == 302  # another user from this address


def test_lockout_message_is_korean(client: Client, kim):
    response = _fail(client, 5, HTTP_ACCEPT_LANGUAGE="ko")[-1]
    assert response.status_code == 429
    assert "계정 잠김" in response.content.decode() and "15분" in response.content.decode()


def test_successful_login_resets_the_failure_count(client: Client, kim):
    _fail(client, 4)
    assert _login(client, PASSWORD).status_code == 302
    client.logout()
    assert [r.status_code for r in _fail(client, 4)] == [200] * 4


def test_unlock_command_lifts_a_lockout(client: Client, kim):
    _fail(client, 5)
    call_command("axes_reset_username", "kim")
    assert _login(client, PASSWORD).status_code == 302


def test_lockout_ends_after_cooloff(client: Client, kim):
    from axes.models import AccessAttempt

    _fail(client, 5)
    # The cool-off is measured from the last failure: move it 16 minutes back instead of waiting.
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert _login(client, PASSWORD).status_code == 302


FORMS = [
    pytest.param("/login/", {"username": "kim", "password": PASSWORD}, False, id="login"),
    pytest.param("/logout/", {}, True, id="logout"),
    pytest.param("/i18n/setlang/", {"language": "ko"}, False, id="language"),
]


@pytest.mark.parametrize(("url", "data", "logged_in"), FORMS)
def test_post_without_csrf_token_is_refused(kim, url, data, logged_in):
    client = Client(enforce_csrf_checks=True)
    if logged_in:
        client.force_login(kim)
    assert client.post(url, data).status_code == 403


def test_login_form_with_csrf_token_works(kim):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    response = client.post("/login/", {"username": "kim", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_idle_session_expires(client: Client, kim):
    assert _login(client, PASSWORD).status_code == 302
    assert client.session.get_expiry_age() == 30 * 60
    # Idle for 31 min: the stored session has expired (instead of sleeping, its expiry is moved back).
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(minutes=1))
    response = client.get("/inventory/lines/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_each_request_renews_the_idle_timeout(client: Client, kim):
    _login(client, PASSWORD)
    soon = timezone.now() + dt.timedelta(minutes=5)
    Session.objects.update(expire_date=soon)
    client.get("/login/")
    assert Session.objects.get().expire_date > soon + dt.timedelta(minutes=20)


def test_csp_allows_only_own_scripts_and_htmx_page_has_no_inline_script(client: Client, kim, make_inventory):
    make_inventory(2)
    client.force_login(kim)
    kim.groups.add(Group.objects.get(name="viewer"))
    response = client.get("/inventory/lines/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    scripts = re.findall(rb"<script([^>]*)>(.*?)</script>", response.content, re.DOTALL)
    assert scripts, "htmx is loaded"
    assert all(b"src=" in attrs and not body.strip() for attrs, body in scripts)
    assert b"htmx" in b"".join(attrs for attrs, _ in scripts)


@pytest.mark.parametrize(("header", "value"), [
    pytest.param("X-Frame-Options", "DENY", id="frame"),
    pytest.param("X-Content-Type-Options", "nosniff", id="nosniff"),
    pytest.param("Referrer-Policy", "same-origin", id="referrer"),
    pytest.param("Cross-Origin-Opener-Policy", "same-origin", id="coop"),
])
def test_security_headers_on_the_login_page(client: Client, header, value):
    assert client.get("/login/")[header] == value


def _events() -> list[tuple[str, str]]:
    return [(e.kind, e.user_name) for e in LoginEvent.objects.order_by("pk")]


def test_login_logout_failure_and_lockout_are_logged_without_password(client: Client, kim):
    _login(client, WRONG)
    _login(client, PASSWORD)
    client.post("/logout/")
    _fail(client, 5, name="nobody")
    events = _events()
    assert events[:3] == [(LoginEventKind.LOGIN_FAILED, "kim"), (LoginEventKind.LOGIN, "kim"),
                          (LoginEventKind.LOGOUT, "kim")]
    assert (LoginEventKind.LOCKED_OUT, "nobody") in events
    login = LoginEvent.objects.get(kind=LoginEventKind.LOGIN)
    assert login.user == kim and login.backend == "local" and login.remote_addr == "127.0.0.1"
    assert login.request_id is not None
    dumped = repr(list(LoginEvent.objects.values()))
    assert WRONG not in dumped and PASSWORD not in dumped


def test_login_log_rows_are_append_only(client: Client, kim):
    _login(client, PASSWORD)
    row = LoginEvent.objects.get()
    with pytest.raises(AuditRowImmutable):
        row.save()
    with pytest.raises(AuditRowImmutable):
        LoginEvent.objects.all().delete()


def test_session_ends_at_max_age_however_busy(client: Client, kim, settings):
    from web.accounts.middleware import LOGIN_TIME_KEY

    settings.LINEWATCH_SESSION_MAX_S = 8 * 3600
    kim.groups.add(Group.objects.get(name="viewer"))
    _login(client, PASSWORD)
    assert client.get("/inventory/lines/").status_code == 200
    session = client.session
    session[LOGIN_TIME_KEY] = (timezone.now() - dt.timedelta(hours=8, minutes=1)).timestamp()  # logged in 8 h ago
    session.save()
    response = client.get("/inventory/lines/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert LoginEvent.objects.filter(kind=LoginEventKind.LOGOUT).count() == 1


def test_lockout_follows_the_configured_limit_and_duration(client: Client, kim, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=40)
    responses = _fail(client, 3)
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert b"locked for 40 minutes" in responses[-1].content


def test_htmx_is_configured_without_inline_style_or_eval(client: Client):
    page = client.get("/login/").content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    assert config and json.loads(config.group(1)) == {"includeIndicatorStyles": False, "allowEval": False}


def test_login_log_is_read_only_in_the_admin(client: Client, django_user_model):
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    _login(client, PASSWORD, name="root")
    event = LoginEvent.objects.get(user=root)
    assert client.get("/admin/logins/loginevent/").status_code == 200
    assert client.get(f"/admin/logins/loginevent/{event.pk}/change/").status_code == 200  # the view page
    assert client.get("/admin/logins/loginevent/add/").status_code == 403
    assert client.post(f"/admin/logins/loginevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LoginEvent.objects.filter(pk=event.pk).exists()


# Rendered to PDF by WeasyPrint (web/findings/evidence.py), never served to a browser: its <style> is the page
# layout of the PDF, out of the Content-Security-Policy's reach.
PDF_ONLY = {"findings/templates/findings/evidence/pack.html"}
TEMPLATES = sorted(p for p in (Path(__file__).resolve().parents[2] / "web").rglob("*.html")
                   if str(p).split("/web/", 1)[-1] not in PDF_ONLY)
# What the Content-Security-Policy blocks: inline script, style attributes, event handler attributes, htmx's
# hx-on (evaluated code), <style> blocks.
CSP_VIOLATIONS = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=\"|\son[a-z]+=|\shx-on|<style", re.IGNORECASE)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p).split("/web/", 1)[-1])
def test_templates_hold_nothing_the_csp_blocks(template):
    found = [(n, line.strip()) for n, line in enumerate(template.read_text().splitlines(), 1)
             if CSP_VIOLATIONS.search(line)]
    assert not found, f"{template}: inline script/style or event handler (CSP forbids it): {found}"


def test_failed_logins_and_lockout_log_no_password(client: Client, kim, caplog):
    with caplog.at_level(logging.DEBUG):
        _fail(client, 6)
    assert "Too Many Requests: /login/" in caplog.text  # the lockout was logged
    assert WRONG not in caplog.text


def test_pdf_only_templates_are_not_rendered_by_any_view():
    """The CSP exemption above holds only while no page renders them: no view or URL module names them."""
    web = Path(__file__).resolve().parents[2] / "web"
    for name in PDF_ONLY:
        short = name.split("/templates/", 1)[1]
        users = [p for p in web.rglob("*.py") if short in p.read_text(encoding="utf-8")]
        assert users and all(p.name.startswith("evidence") for p in users), (name, users)

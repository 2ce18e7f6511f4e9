"""The Korean catalogues are complete and compiled: every string of web/ is translated."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
CATALOGUES = sorted(WEB.glob("**/locale/ko/LC_MESSAGES/django.po"))


def test_every_app_has_a_korean_catalogue():
    assert {p.relative_to(WEB).parts[0] for p in CATALOGUES} == {"locale", "inventory", "accounts", "audit", "faults",
                                                                 "inspections", "orders", "notify", "credits",
                                                                 "finance", "intake", "invoices",
                                                                 "findings", "voice", "reports"}


@pytest.mark.parametrize("po", CATALOGUES, ids=[str(p.relative_to(WEB)) for p in CATALOGUES])
def test_korean_catalogue_is_complete_and_compiled(po: Path, tmp_path: Path):
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "out.mo"), str(po)],
                            check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    assert po.with_suffix(".mo").read_bytes() == (tmp_path / "out.mo").read_bytes(), "run msgfmt: .mo is stale"


def test_every_enumeration_label_is_in_the_catalogue():
    """web/labels.py has a label per member (checked at import) and each label is translated."""
    from django.utils import translation

    from web.labels import LABELS

    def texts(lang: str) -> list[str]:
        with translation.override(lang):
            return [str(label) for labels in LABELS.values() for label in labels.values()]

    same = {en for en, ko in zip(texts("en"), texts("ko"), strict=True) if en == ko}
    # Protocol names and acronyms read the same in Korean.
    assert same <= {"MPLS", "SD-WAN", "NOC", *(str(m) for enum in LABELS if "Snmp" in enum.__name__ for m in enum)}


def _msgids(po: Path) -> set[str]:
    import re

    text = po.read_text(encoding="utf-8")
    ids = set()
    for m in re.finditer(r'^msgid ((?:".*"\n)+)', text, flags=re.M):
        ids.add("".join(re.findall(r'"(.*)"', m.group(1))))
    return ids - {""}


@pytest.mark.slow
def test_catalogues_hold_every_marked_string(tmp_path: Path):
    """A string marked for translation but missing from a catalogue (makemessages not re-run) fails here."""
    import shutil
    import sys

    from web_test_setup import web_env

    copy = tmp_path / "web"
    shutil.copytree(WEB, copy, ignore=shutil.ignore_patterns("__pycache__"))
    admin = [sys.executable, "-m", "django", "makemessages", "-l", "ko", "--no-location"]
    env = web_env(DJANGO_SETTINGS_MODULE="web.settings")
    apps = ("inventory", "accounts", "audit", "faults", "inspections", "orders", "notify", "credits", "finance",
            "intake", "findings", "invoices", "voice", "reports")
    runs = {app: [] for app in apps} | {".": [arg for app in apps for arg in ("-i", f"{app}/*")]}
    for app, extra in runs.items():
        result = subprocess.run([*admin, *extra], cwd=copy / app, env=env, check=False, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    for app in runs:
        rel = Path(app) / "locale/ko/LC_MESSAGES/django.po"
        assert _msgids(copy / rel) == _msgids(WEB / rel), f"run makemessages for web/{app} (docs/web.md)"

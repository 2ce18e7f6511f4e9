"""The inventory's voice fields: a voice line's rate plan must be one of voice.yaml's (the line form and the API,
one rule; a plan already stored is kept while voice.yaml changes), and a contract's price per channel goes to
contracts.yaml (contracts_data, export and import) for the billing ETL's channel sizing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.forms import modelform_factory
from voice_support import voice_setup

from web.inventory import io
from web.inventory.forms import LineForm
from web.inventory.models import Contract, Line

pytestmark = pytest.mark.django_db

REPO_VOICE = (Path(__file__).resolve().parents[2] / "config" / "voice.yaml").read_text(encoding="utf-8")


@pytest.fixture
def voice_line(make_inventory, tmp_path, settings):
    voice_setup(tmp_path, settings, REPO_VOICE.replace("extensions: extensions.csv", ""))
    line = make_inventory(1)["lines"][0]
    line.type, line.channels, line.status = "voice_trunk", 30, "active"
    line.save()
    return line


def _form(line: Line, rate_plan: str):
    return modelform_factory(Line, form=LineForm, fields=("rate_plan",))({"rate_plan": rate_plan}, instance=line)


def test_the_line_form_takes_a_rate_plan_of_voice_yaml(voice_line):
    form = _form(voice_line, "dtag-sip-business")
    assert form.is_valid(), form.errors
    assert form.save().rate_plan == "dtag-sip-business"


def test_the_line_form_refuses_an_unknown_rate_plan_naming_voice_yamls_plans(voice_line):
    form = _form(voice_line, "dtag-cheap")
    assert not form.is_valid()
    assert form.errors["rate_plan"] == [
        "no rate plan dtag-cheap in voice.yaml (its plans: dtag-sip-business, obs-sip-fr)"]


def test_a_stored_rate_plan_is_kept_when_voice_yaml_no_longer_has_it(voice_line):
    Line.objects.filter(pk=voice_line.pk).update(rate_plan="retired-plan")
    voice_line.refresh_from_db()
    assert _form(voice_line, "retired-plan").is_valid()


def test_with_voice_yaml_unreadable_a_new_rate_plan_is_refused_saying_why(voice_line, tmp_path):
    (tmp_path / "voice.yaml").write_text("rate_plans: [{name: x, currency: EURO}]\n", encoding="utf-8")
    form = _form(voice_line, "x")
    assert not form.is_valid()
    assert form.errors["rate_plan"][0].startswith("voice.yaml cannot be read, so the rate plan cannot be checked")


def test_the_api_applies_the_same_rule_on_the_rate_plan(client, user_with_role, voice_line):
    client.force_login(user_with_role("engineer"))
    url = f"/api/inventory/lines/{voice_line.pk}/"
    bad = client.patch(url, {"rate_plan": "dtag-cheap"}, content_type="application/json")
    assert bad.status_code == 400 and "dtag-cheap" in bad.json()["rate_plan"][0]
    good = client.patch(url, {"rate_plan": "obs-sip-fr"}, content_type="application/json")
    assert good.status_code == 200, good.content
    assert Line.objects.get(pk=voice_line.pk).rate_plan == "obs-sip-fr"


def test_a_contracts_price_per_channel_is_in_contracts_yaml_and_imported_back(voice_line, tmp_path):
    from web.audit.context import change_context

    Contract.objects.create(line=voice_line, mrc=Decimal("450"), price_per_channel=Decimal("15.5"))
    [entry] = io.contracts_data()["contracts"]
    assert entry["price_per_channel"] == Decimal("15.5")
    folder = tmp_path / "export"
    io.export_dir(folder, secrets="clear")
    Contract.objects.update(price_per_channel=None)
    with change_context(user_name="import"):
        io.import_dir(folder, user_name="import")
    assert Contract.objects.get().price_per_channel == Decimal("15.5")


def test_a_contract_without_a_price_per_channel_leaves_it_out(voice_line):
    Contract.objects.create(line=voice_line, mrc=Decimal("450"))
    assert "price_per_channel" not in io.contracts_data()["contracts"][0]

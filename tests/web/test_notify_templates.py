"""Message templates (web/notify/templates.py): sandboxed Jinja2, unknown variables refused on save by name,
edited rows per carrier and language over the built-in files, HTML autoescaped."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from linewatch.choices import MessageKind
from web.notify.models import MessageTemplate
from web.notify.templates import check_template, render

KIND = MessageKind.TEST_MESSAGE.value
CONTEXT = {"sender": "kim", "sent_at": "2026-12-02 10:15 KST"}


@pytest.mark.parametrize(("body", "reason"), [
    ("{{ ''.__class__ }}", "SecurityError"),
    ("{{ sender.__class__.__mro__ }}", "SecurityError"),
    ("{{ cycler.__init__.__globals__ }}", "SecurityError"),
    ("Hello {{ nobody }}", "Unknown variable nobody"),
    ("{% if %}", "Template error on line 1"),
], ids=["class-escape", "mro-escape", "globals", "unknown-variable", "syntax"])
def test_unsafe_or_unknown_templates_are_refused_with_the_reason(body, reason):
    with pytest.raises(ValidationError) as err:
        check_template(KIND, subject="s", body=body)
    assert reason in str(err.value.message_dict["body"])


def test_the_check_names_the_field_of_the_unknown_variable():
    with pytest.raises(ValidationError) as err:
        check_template(KIND, subject="Hi {{ whom }}", body="{{ sender }}")
    assert set(err.value.message_dict) == {"subject"} and "whom" in err.value.message_dict["subject"][0]


@pytest.mark.django_db
def test_saving_a_template_with_an_unknown_variable_is_refused_by_full_clean():
    row = MessageTemplate(kind=KIND, language="en", subject="Test", body="Dear {{ recipient_name }}")
    with pytest.raises(ValidationError, match="recipient_name"):
        row.full_clean()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_built_in_text_is_used_without_an_edited_row(db, language):
    rendered = render(KIND, language=language, context=CONTEXT)
    assert "kim" in rendered.subject and "2026-12-02 10:15 KST" in rendered.text
    assert rendered.html.startswith("<p>")


@pytest.mark.django_db
def test_a_carriers_template_wins_over_the_default_row_which_wins_over_the_file(make_inventory):
    carriers = make_inventory(1)["carriers"]
    MessageTemplate.objects.create(kind=KIND, language="en", subject="Default {{ sender }}", body="default")
    MessageTemplate.objects.create(kind=KIND, carrier=carriers[0], language="en", subject="Telia {{ sender }}",
                                   body="telia")
    assert render(KIND, language="en", context=CONTEXT, carrier=carriers[0]).subject == "Telia kim"
    assert render(KIND, language="en", context=CONTEXT, carrier=carriers[1]).subject == "Default kim"
    assert render(KIND, language="ko", context=CONTEXT).subject.startswith("linewatch 테스트")


@pytest.mark.django_db
def test_the_html_part_escapes_the_context_and_the_text_part_does_not():
    MessageTemplate.objects.create(kind=KIND, language="en", subject="x", body="From {{ sender }}\nline two")
    rendered = render(KIND, language="en", context={**CONTEXT, "sender": "<b>kim</b> & co"})
    assert rendered.text == "From <b>kim</b> & co\nline two"
    assert rendered.html == "<p>From &lt;b&gt;kim&lt;/b&gt; &amp; co<br>\nline two</p>\n"


@pytest.mark.django_db
def test_an_edited_template_failing_on_a_real_context_falls_back_to_the_built_in_text(caplog):
    MessageTemplate.objects.create(kind=KIND, language="en", subject="x", body="{{ sender.upper() }}")
    rendered = render(KIND, language="en", context={"sender": None, "sent_at": "now"})
    assert rendered.subject == "linewatch test message from None" and "using the built-in text" in caplog.text


KIND_LANGUAGES = [(k.value, lang) for k in MessageKind for lang in ("en", "ko")]


@pytest.mark.parametrize(("kind", "language"), KIND_LANGUAGES, ids=[f"{k}-{lang}" for k, lang in KIND_LANGUAGES])
def test_every_kinds_built_in_text_passes_the_check_with_its_sample(kind, language):
    """Each kind has its built-in text in both languages, and it renders with the kind's sample context."""
    from web.notify.templates import MESSAGES_DIR, builtin

    assert (MESSAGES_DIR / f"{kind}.{language}.txt").is_file()
    src = builtin(kind, language)
    rendered = check_template(kind, subject=src.subject, body=src.body)
    assert rendered.subject and rendered.text.strip()


def test_every_message_kind_has_a_translated_label():
    """A kind added to linewatch/choices.py needs its label in web/notify/labels.py (and the Korean catalogue)."""
    from web.notify.labels import KIND_LABELS

    assert [k.value for k in MessageKind if k.value not in KIND_LABELS] == []

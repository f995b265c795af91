"""Company message templates: saving is validated against the key's documented context (a
template reaching for anything else is refused with the expression named), rendering uses
the company's template, the admin page previews against a real invoice without saving, reset,
and the SMTP path sends the customised subject with an HTML alternative."""

from datetime import date

import pytest

from groupbill.audit.models import AuditEntry
from groupbill.billing import invoices
from groupbill.billing.invoices import NewLine
from groupbill.errors import ValidationFailed
from groupbill.notices import rendering
from groupbill.notices.models import MessageTemplate, OutboxMessage
from groupbill.notices.templates import reset_template, save_template
from tests.conftest import ACTOR
from tests.notices.test_outbox_sender import T0, _queue, deliver

GOOD = {
    "subject": "Your bill {{ number }} from {{ company_name }}",
    "text": "Dear {{ client_name }}, please pay {{ balance_due|money(currency) }}.\n",
    "html": "<p>Dear {{ client_name }}, pay <b>{{ balance_due|money(currency) }}</b></p>",
}


def issued(client, amount=11900):
    inv = invoices.create_invoice(client, [NewLine("Web Hosting XL", amount)], actor=ACTOR)
    return invoices.issue_invoice(inv, issued_on=date(2026, 3, 1), due_on=date(2026, 3, 15),
                                  actor=ACTOR)  # fmt: skip


def refusal(company, key="invoice_unpaid", **fields) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        save_template(company, key, {**GOOD, **fields}, actor=ACTOR)
    assert not MessageTemplate.objects.filter(company=company, key=key).exists()
    return info.value


def test_every_default_key_has_a_documented_context_and_renders_with_samples():
    required = {"invoice_unpaid", "invoice_paid", "notice_first", "notice_second",
                "notice_third", "autodebit_pending", "payment_received", "payment_declined",
                "payment_account_disabled", "service_suspended", "service_unsuspended",
                "renewal_failed", "service_change_cancelled", "password_reset",
                "payment_disputed", "payment_action_required"}  # fmt: skip
    assert set(rendering.DEFAULTS) == required == set(rendering.CONTEXTS)
    for key, context in rendering.CONTEXTS.items():
        assert {"company_name", "client_name"} <= set(context)
        values = {k: rendering.SAMPLE[k] for k in context}
        out = rendering.render(key, values, company_name="Acme", client_name="Ada")
        assert out.subject and out.body and out.html == ""
    assert rendering.CONTEXTS["invoice_unpaid"] is rendering.CONTEXTS["notice_first"]


def test_saved_template_is_used_for_rendering_and_audited(company):
    save_template(company, "invoice_unpaid", GOOD, actor=ACTOR)
    context = {**rendering.SAMPLE, "number": 42}
    out = rendering.render("invoice_unpaid", context, company_name="Acme Hosting",
                           client_name="Ada <Lovelace>", company=company)  # fmt: skip
    assert out.subject == "Your bill 42 from Acme Hosting"
    assert out.body == "Dear Ada <Lovelace>, please pay €119.00.\n"
    # The HTML part escapes values.
    assert out.html == "<p>Dear Ada &lt;Lovelace&gt;, pay <b>€119.00</b></p>"
    # Another company, or no company, still gets the default.
    default = rendering.render("invoice_unpaid", context, company_name="Acme Hosting")
    assert default.subject == "Invoice 42 from Acme Hosting" and default.html == ""
    entry = AuditEntry.objects.get(action="message_template.save")
    assert entry.key == "invoice_unpaid" and entry.new["subject"] == GOOD["subject"]
    assert entry.old is None and entry.company_id == company.pk


@pytest.mark.parametrize(
    "field, source, named",
    [
        ("subject", "{{ company.__class__.__mro__ }}", "company.__class__.__mro__"),
        ("text", "{{ ''.__class__ }}", "''.__class__"),
        ("text", "{{ number['__class__'] }}", "number['__class__']"),
        ("html", "{{ settings }}", "{{ settings }}"),
        ("text", "{{ number|attr('__class__') }}", "number|attr"),
        ("text", "{{ [number]|map(attribute='__class__')|list }}", "|map"),
        ("text", "{{ range(10) }}", "{{ range }}"),
        (
            "text",
            "{% for x in number.__class__.__subclasses__() %}{% endfor %}",
            "number.__class__.__subclasses__",
        ),
    ],
)
def test_a_template_reaching_beyond_its_context_is_refused_with_the_expression(
    company, field, source, named
):
    exc = refusal(company, **{field: source})
    messages = [e.message for e in exc.errors if e.field == field]
    assert any(named in m for m in messages), messages


def test_an_undeclared_variable_from_another_templates_context_is_refused(company):
    exc = refusal(company, key="password_reset", text="Pay {{ balance_due }} at {{ reset_url }}")
    assert [(e.field, e.message) for e in exc.errors if e.field == "text"] == [
        ("text", "{{ balance_due }} is not available to this template")
    ]


def test_syntax_errors_are_refused_with_the_line(company):
    exc = refusal(company, text="Hello\n\n{{ number }\n")
    [error] = exc.errors
    assert error.field == "text" and "syntax error on line 3" in error.message
    exc = refusal(company, html="<p>\n{% if number %}open</p>")
    assert exc.errors[0].field == "html" and "line" in exc.errors[0].message
    exc = refusal(company, subject="{{ number|nosuchfilter }}")
    assert "line 1" in exc.errors[0].message and "nosuchfilter" in exc.errors[0].message
    exc = refusal(company, text="{% include 'x.html' %}")
    assert "include" in exc.errors[0].message


def test_reset_goes_back_to_the_default(company):
    save_template(company, "notice_first", GOOD, actor=ACTOR)
    assert reset_template(company, "notice_first", actor=ACTOR) is True
    assert reset_template(company, "notice_first", actor=ACTOR) is False
    assert not MessageTemplate.objects.exists()
    assert (
        rendering.source_for("notice_first", company).subject
        == (rendering.DEFAULTS["notice_first"][0])
    )
    assert AuditEntry.objects.filter(action="message_template.reset").count() == 1


def test_admin_pages_preview_a_real_invoice_without_saving_then_save_and_reset(
    staff, company, make_client
):
    client_row = make_client(first_name="Grace", last_name="Hopper")
    issued(client_row, 5000)
    latest = issued(client_row, 23456)
    page = staff.get(f"/companies/{company.pk}/").content.decode()
    assert f'href="/companies/{company.pk}/templates/"' in page
    listing = staff.get(f"/companies/{company.pk}/templates/").content.decode()
    assert "payment_declined" in listing and "password_reset" in listing
    assert "customised" not in listing.split("<tbody>")[1]

    url = f"/companies/{company.pk}/templates/invoice_unpaid/"
    edit = staff.get(url).content.decode()
    assert "balance_due" in edit and "the invoice number" in edit  # documented context
    html = "<p>Total {{ total|money(currency) }} for {{ client_name }}</p><script>x()</script>"
    response = staff.post(url, {**GOOD, "html": html, "action": "preview"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="preview"' in body
    assert f"Your bill {latest.number} from Acme Hosting" in body
    assert "please pay €234.56." in body
    # The HTML is shown in a sandboxed iframe, escaped into srcdoc.
    assert 'sandbox=""' in body and "&lt;p&gt;Total €234.56 for Grace Hopper&lt;/p&gt;" in body
    assert "<script>x()</script>" not in body
    assert not MessageTemplate.objects.exists()

    response = staff.post(url, {**GOOD, "text": "{{ company.__class__ }}", "action": "save"})
    assert "{{ company.__class__ }} is refused" in response.content.decode()
    assert not MessageTemplate.objects.exists()

    response = staff.post(url, {**GOOD, "action": "save"})
    assert response.status_code == 302
    assert MessageTemplate.objects.get(company=company, key="invoice_unpaid").html == GOOD["html"]
    listing = staff.get(f"/companies/{company.pk}/templates/").content.decode()
    assert "customised" in listing.split('id="template-invoice_unpaid"')[1].split("</tr>")[0]

    response = staff.post(url, {**GOOD, "action": "reset"})
    assert response.status_code == 302 and not MessageTemplate.objects.exists()


def test_preview_uses_sample_values_without_an_invoice(staff, company):
    url = f"/companies/{company.pk}/templates/service_suspended/"
    response = staff.post(url, {"subject": "{{ package }} off", "text": "{{ reason }}",
                                "html": "", "action": "preview"})  # fmt: skip
    body = response.content.decode()
    assert "VPS S off" in body and "sample values" in body


def test_smtp_sends_the_customised_subject_with_an_html_alternative(company, make_client, smtp):
    server = smtp()
    client_row = make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    save_template(company, "notice_first", GOOD, actor=ACTOR)
    message = _queue(company, client_row, "notice_first")
    invoice_message = _queue(company, client_row, "invoice_unpaid")  # still the default
    assert "2 sent" in deliver(T0)
    by_subject = {msg["Subject"]: msg for _, msg in server.received}
    msg = by_subject["Your bill INV-0042 from Acme Hosting"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert text == "Dear Ada Lovelace, please pay €119.00.\n"
    assert "<b>€119.00</b>" in html and "Dear Ada Lovelace" in html
    default = by_subject["Invoice INV-0042 from Acme Hosting"]
    assert default.get_content_type() == "text/plain"
    for row in (message, invoice_message):
        row.refresh_from_db()
        assert row.status == "sent"
    assert OutboxMessage.objects.count() == 2

"""Schemathesis's positive-data check, made exact for Groupbill (loaded by
`python -m tests.api_contract` through SCHEMATHESIS_HOOKS).

The schema states every limit a request's shape can break. A request valid by it may
still be refused with 422 for what it names or when it is sent: another company's group,
a client that already has a primary contact, a date outside the window around today, a
field that the request's own kind rules out. Those refusals are allowed here only on the
fields listed below; a 422 on any other field of a schema-valid request is a finding."""

import schemathesis

from groupbill.clients.contact_fields import CONTACT_FIELD_NAMES

# Fields whose refusal depends on the data named, the clock or the server's configuration.
REFUSED_BY_STATE = {
    # the window of dates around today (bounds.DATE_WINDOW_YEARS)
    "today", "start_on", "issued_on", "due_on", "as_of",
    # objects named by id that must belong together (one company, a parent of the client)
    "client_id", "group_id", "pricing_id", "parent_id", "invoice_id", "value_id", "addon_of",
    "options", "company_id", "company", "transaction_id",
    # a client has one primary contact; the portal needs GROUPBILL_PORTAL_URL; an invoice
    # is issued with at least one line and holds at most 500
    "role", "portal_url", "lines",
    # fields one kind of request uses and another rules out (credit has no method, a
    # charge of a saved account needs an idempotency key and no method or reference; a
    # card's kind and last four digits are required unless Stripe says them)
    "method", "reference", "idempotency_key", "payment_account_id", "amount", "kind", "last4",
    # a line's amount times its quantity, a due date before the issue date
    "unit_amount",
    # names unique within their company or option
    "name", "values", "prices", "currency",
    # package modules that need their webhook settings; a gateway known to Groupbill but not
    # configured on this server (stripe without its keys)
    "webhook_url", "webhook_secret", "gateway",
    # an email address's or a webhook URL's syntax (Django's validators, stricter than any
    # JSON Schema format: a host name of at most 253 characters);
    # EU VAT needs the company's country to be a member state (another field, or the
    # company's stored one)
    "notify_email", "url", "charges_eu_vat",
} | set(CONTACT_FIELD_NAMES)  # the group's `required_contact_fields`  # fmt: skip


# What no database can store, refused wherever text is taken (README, Limits).
STORAGE_LIMITS = ("must not contain NUL characters", "lone surrogate")


def _fields(response) -> set[str]:
    try:
        errors = response.json().get("errors", [])
    except ValueError:
        return {"?"}
    return {
        str(e.get("field", "?")).split(".")[0]
        for e in errors
        if not any(limit in str(e.get("message")) for limit in STORAGE_LIMITS)
    }


@schemathesis.check
def refused_only_for_state(ctx, response, case):
    """A schema-valid request is refused (422) only on fields whose validity is state."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    fields = _fields(response)
    # A stateful link can carry a null from an earlier answer (an invoice line with no
    # service) into a path: "None" is then not a value the schema allows.
    if any(value is None or value == "None" for value in (case.path_parameters or {}).values()):
        return None
    # A setting's value may break a rule between levels (a group's threshold above the
    # company's): settings endpoints name the key, which the schema cannot relate.
    if "/settings" in case.operation.path:
        return None
    unexpected = fields - REFUSED_BY_STATE
    if unexpected:
        raise AssertionError(
            f"A request valid by the schema was refused on {sorted(unexpected)}: "
            f"{response.text[:500]}"
        )
    return None

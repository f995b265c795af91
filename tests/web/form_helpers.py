"""Sending a page's forms as a browser does: each POST form's action and the values its
inputs carry (hidden ones included: the CSRF token, a form's key)."""

from html.parser import HTMLParser


class _PostForms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.fields: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.fields = {}
            self.forms.append((attrs.get("action") or "", self.fields))
        elif tag == "input" and self.fields is not None and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.fields = None


def post_forms(html: str) -> list[tuple[str, dict[str, str]]]:
    """The page's POST forms: (action, {input name: value})."""
    parser = _PostForms()
    parser.feed(html)
    return parser.forms


def refund_form(html: str, payment_id: int) -> tuple[str, dict[str, str]]:
    """The client page's Refund form of this payment, as the page filled it in."""
    [form] = [
        (action, fields)
        for action, fields in post_forms(html)
        if action.endswith("/refund/") and fields.get("transaction") == str(payment_id)
    ]
    return form


def pay_form(html: str) -> tuple[str, dict[str, str]]:
    """The invoice page's Record payment form, as the page filled it in."""
    [form] = [
        (action, fields) for action, fields in post_forms(html) if fields.get("action") == "pay"
    ]
    return form

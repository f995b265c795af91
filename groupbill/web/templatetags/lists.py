from django import template
from django.utils.html import format_html

from groupbill.clients.queries import primary_contact

register = template.Library()


@register.filter
def client_name(client) -> str:
    """A client as staff know it: its primary contact's name (or company, or email); the
    lists prefetch that contact, so this costs no query."""
    contact = primary_contact(client)
    return contact.display_name if contact else f"Client #{client.pk}"


@register.filter
def client_company(client) -> str:
    contact = primary_contact(client)
    return contact.company if contact else ""


@register.simple_tag(takes_context=True)
def sort_link(context, label: str, key: str) -> str:
    """A column header that sorts the list by `key`, the other way round when it already
    does; the other GET parameters (filters) are kept, the page goes back to the first."""
    request = context["request"]
    current = context.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    ascending = current == key
    params["sort"] = f"-{key}" if ascending else key
    arrow = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
    state = "ascending" if current == key else "descending" if current == f"-{key}" else "none"
    return format_html('<a href="?{}" aria-sort="{}">{}{}</a>', params.urlencode(), state,
                       label, arrow)  # fmt: skip

"""The top bar's search: clients by name, email, company or tax ID; invoices and credit
notes by number; services by id or label (their package's name), in the user's companies
only. Each kind is one query (plus one for the clients' primary contacts), at most
SEARCH_LIMIT hits shown; web/search.html has a block per kind, in KINDS' order."""

from django.shortcuts import render

from groupbill.billing import queries as billing_queries
from groupbill.clients import queries as client_queries
from groupbill.companies.roles import company_ids_of
from groupbill.services import queries as service_queries
from groupbill.web.views.common import staff_required

MAX_QUERY = 100

KINDS = (
    ("clients", "Clients", client_queries.search_clients, client_queries.SEARCH_LIMIT),
    ("invoices", "Invoices", billing_queries.search_invoices, billing_queries.SEARCH_LIMIT),
    (
        "credit_notes",
        "Credit notes",
        billing_queries.search_credit_notes,
        billing_queries.SEARCH_LIMIT,
    ),
    ("services", "Services", service_queries.search_services, service_queries.SEARCH_LIMIT),
)


@staff_required
def search(request):
    text = request.GET.get("q", "").strip()[:MAX_QUERY]
    groups = []
    if text:
        mine = company_ids_of(request.user)
        for key, label, find, limit in KINDS:
            hits = find(text, company_ids=mine)
            groups.append({"key": key, "label": label, "hits": hits[:limit],
                           "more": len(hits) > limit, "limit": limit})  # fmt: skip
    found = sum(len(g["hits"]) for g in groups)
    return render(request, "web/search.html", {"q": text, "groups": groups, "found": found})

from django.core.paginator import Paginator
from django.shortcuts import render

from groupbill.audit.models import AuditEntry
from groupbill.companies.queries import companies
from groupbill.validation import parse_id
from groupbill.web.views.common import of_my_companies, staff_required


@staff_required
def audit_log(request):
    entries = of_my_companies(request, AuditEntry.objects.all())
    company_id = parse_id(request.GET.get("company"))
    if company_id:
        entries = entries.filter(company_id=company_id)
    key = request.GET.get("key", "").strip()
    if key:
        entries = entries.filter(key=key)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "web/audit.html",
        {
            "page": page,
            "companies": of_my_companies(request, companies(), "pk"),
            "company_id": company_id,
            "key": key,
        },
    )

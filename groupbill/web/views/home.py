from django.shortcuts import redirect

from groupbill.companies.queries import companies
from groupbill.web.views.common import staff_required


@staff_required
def home(request):
    first = companies().first()
    if first is not None and companies().count() == 1:
        return redirect("web:company_dashboard", company_id=first.pk)
    return redirect("web:company_list")

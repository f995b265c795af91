from django.shortcuts import redirect

from groupbill.companies.queries import companies
from groupbill.web.views.common import of_my_companies, staff_required


@staff_required
def home(request):
    """The dashboard of the user's one company, or the list of their companies."""
    mine = of_my_companies(request, companies(), "pk")
    first = mine.first()
    if first is not None and mine.count() == 1:
        return redirect("web:company_dashboard", company_id=first.pk)
    return redirect("web:company_list")

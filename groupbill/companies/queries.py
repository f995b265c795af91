from datetime import date

from django.db.models import OuterRef, QuerySet, Subquery

from groupbill import clock
from groupbill.companies.models import Company
from groupbill.errors import NotFound
from groupbill.periods import local_date


def companies() -> QuerySet[Company]:
    """Companies annotated with `default_group_id` (their first client group)."""
    from groupbill.clients.models import ClientGroup

    first_group = ClientGroup.objects.filter(company=OuterRef("pk")).order_by("pk").values("pk")[:1]
    return Company.objects.annotate(default_group_id=Subquery(first_group)).order_by("pk")


def get_company(company_id: int) -> Company:
    company = companies().filter(pk=company_id).first()
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    return company


def company_today(company: Company) -> date:
    """The company's calendar day now: what staff and API actions mean by "today" (inside
    an engine run, the run's `as_of`)."""
    return local_date(clock.now(), company.timezone)

from datetime import date

from django.db.models import Min, QuerySet

from groupbill import clock
from groupbill.companies.models import Company
from groupbill.errors import NotFound
from groupbill.periods import local_date


def companies() -> QuerySet[Company]:
    """Companies annotated with `default_group_id` (their first client group)."""
    # The first group is the default: the reverse relation, so companies need not know
    # the clients app above them.
    return Company.objects.annotate(default_group_id=Min("client_groups__pk")).order_by("pk")


def get_company(company_id: int) -> Company:
    company = companies().filter(pk=company_id).first()
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    return company


def company_today(company: Company) -> date:
    """The company's calendar day now: what staff and API actions mean by "today" (inside
    an engine run, the run's `as_of`)."""
    return local_date(clock.now(), company.timezone)

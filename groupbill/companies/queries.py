from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Min, OuterRef, QuerySet, Subquery

from groupbill import clock
from groupbill.companies.models import Company, StaffMembership
from groupbill.errors import NotFound
from groupbill.periods import local_date
from groupbill.validation import MAX_ID


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


def staff_of(company: Company, *, everyone: bool = False) -> QuerySet:
    """The company's staff users by username, each with their `role` in it. everyone=True
    (what a superuser manages): every staff user of the install, `role` None where they
    have none; otherwise only its members, so no company learns another's staff."""
    role = StaffMembership.objects.filter(company=company, user=OuterRef("pk")).values("role")
    users = (
        get_user_model()
        .objects.filter(is_staff=True)
        .annotate(role=Subquery(role[:1]))
        .order_by("username")
    )
    return users if everyone else users.filter(memberships__company=company)


def staff_user_named(text: str):
    """The staff user whose username is exactly `text`, or else whose email it is (case
    ignored, and only if one staff user has it): how an owner adds a member, typing who
    they mean, never choosing from a list of every company's staff."""
    text = text.strip()
    users = get_user_model().objects.filter(is_staff=True)
    found = list(users.filter(username=text)[:1]) if text else []
    if not found and "@" in text:
        found = list(users.filter(email__iexact=text)[:2])
    if len(found) > 1:
        raise NotFound("More than one staff user has that email: type their username.")
    if not found:
        raise NotFound("No staff user with that username or email.")
    return found[0]


def get_staff_member(company: Company, user_id, *, everyone: bool = False):
    """A staff user of `staff_of(company, everyone=everyone)` by id (as a form posts it);
    anyone else is unknown, named or not."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        pk = 0
    user = staff_of(company, everyone=everyone).filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if user is None:
        raise NotFound(f"No such staff user in {company}.")
    return user

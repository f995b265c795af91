"""Staff roles, declared once: what each role may do in a company it belongs to. The web
views and the API routes both ask here (groupbill.ui.permissions resolves which company a
request is about)."""

from enum import StrEnum


class Action(StrEnum):
    READ = "read"  # see anything of the company
    BILL = "bill"  # clients, invoices, payments, services: the daily work with money
    CONFIGURE = "configure"  # company settings, packages, groups, templates, webhooks
    MANAGE_STAFF = "manage staff"  # roles, the two-factor requirement and API keys


class Role(StrEnum):
    OWNER = "owner"
    BILLING = "billing"
    SUPPORT = "support"


ROLE_LABELS = {
    Role.OWNER: "Owner",
    Role.BILLING: "Billing",
    Role.SUPPORT: "Support (read-only)",
}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.BILLING: frozenset({Action.READ, Action.BILL}),
    Role.SUPPORT: frozenset({Action.READ}),
}

ALL_ACTIONS = frozenset(Action)


def actions_of(role: str | None) -> frozenset[Action]:
    """What a role may do; no role, nothing."""
    return PERMISSIONS.get(Role(role), frozenset()) if role else frozenset()


def staff_actions(user, company_id: int | None) -> frozenset[Action]:
    """What a signed-in staff user may do in a company (company_id None: in some company,
    for the pages across companies). A superuser may do everything everywhere."""
    from groupbill.companies.models import StaffMembership

    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return frozenset()
    if user.is_superuser:
        return ALL_ACTIONS
    memberships = StaffMembership.objects.filter(user=user)
    if company_id is not None:
        memberships = memberships.filter(company_id=company_id)
    actions: set[Action] = set()
    for role in memberships.values_list("role", flat=True):
        actions |= actions_of(role)
    return frozenset(actions)


def company_ids_where(user, action: Action) -> list[int] | None:
    """The companies where a staff user may do `action`; None for a superuser (every
    company)."""
    from groupbill.companies.models import StaffMembership

    if user.is_superuser:
        return None
    roles = [role for role, actions in PERMISSIONS.items() if action in actions]
    memberships = StaffMembership.objects.filter(user=user, role__in=roles)
    return list(memberships.values_list("company_id", flat=True))


def role_in(user, company_id: int) -> Role | None:
    """A staff user's role in a company (one at most); None when they are no member."""
    from groupbill.companies.models import StaffMembership

    role = StaffMembership.objects.filter(user=user, company_id=company_id).values_list(
        "role", flat=True
    )
    return Role(role[0]) if role else None


def company_ids_of(user) -> list[int] | None:
    """The companies a staff user belongs to; None for a superuser (every company)."""
    return company_ids_where(user, Action.READ)


def in_every_company(user, action: Action = Action.READ) -> bool:
    """The user may do `action` in every company there is: what something spanning all
    companies (an engine run of every company) asks."""
    from groupbill.companies.models import Company

    ids = company_ids_where(user, action)
    return ids is None or not Company.objects.exclude(pk__in=ids).exists()


def manages_everywhere(user, staff_member) -> bool:
    """`user` manages staff in every company `staff_member` belongs to (every company, for
    a superuser): what taking away a second factor asks, since it guards all of them."""
    theirs = company_ids_of(staff_member)
    if theirs is None:
        return in_every_company(user, Action.MANAGE_STAFF)
    managed = company_ids_where(user, Action.MANAGE_STAFF)
    return managed is None or set(theirs) <= set(managed)

from django.contrib import messages
from django.shortcuts import redirect, render
from django_otp import user_has_device

from groupbill.companies import actions
from groupbill.companies.queries import get_company, get_staff_member, staff_of, staff_user_named
from groupbill.companies.roles import ROLE_LABELS, manages_everywhere
from groupbill.errors import DomainError
from groupbill.web import two_factor
from groupbill.web.views.common import actor, staff_required


@staff_required
def company_staff(request, company_id: int):
    """An owner's page: who works in the company with which role, and whether they must
    sign in with a second factor. It lists the company's members only (a superuser: every
    staff user); an owner adds one by typing their exact username or email."""
    company = get_company(company_id)
    everyone = request.user.is_superuser
    if request.method == "POST":
        try:
            if "reset_two_factor" in request.POST:
                member_id = request.POST["reset_two_factor"]
                user = get_staff_member(company, member_id, everyone=everyone)
                _reset_two_factor(request, company, user)
            elif "two_factor_required" in request.POST:
                required = request.POST["two_factor_required"] == "on"
                actions.set_two_factor_required(company, required, actor=actor(request))
                messages.success(
                    request,
                    "Two-factor sign-in is now required."
                    if required
                    else "Two-factor sign-in is no longer required.",
                )
            else:
                role = request.POST.get("role") or None
                if "username" in request.POST:
                    if role is None:
                        raise DomainError("Choose the role they get.")
                    user = staff_user_named(request.POST["username"])
                else:
                    user = get_staff_member(company, request.POST["user"], everyone=everyone)
                actions.set_staff_role(company, user, role, actor=actor(request))
                messages.success(request, f"{user.get_username()}: role saved.")
        except (DomainError, KeyError) as exc:
            messages.error(request, getattr(exc, "message", "Choose a staff user and a role."))
        return redirect("web:company_staff", company_id=company.pk)
    staff = [
        {"user": u, "role": u.role, "two_factor": user_has_device(u)}
        for u in staff_of(company, everyone=everyone)
    ]
    for row in staff:
        row["may_reset"] = (
            row["two_factor"] and row["role"] and manages_everywhere(request.user, row["user"])
        )
    return render(
        request,
        "web/companies/staff.html",
        {"company": company, "staff": staff, "roles": ROLE_LABELS.items()},
    )


def _reset_two_factor(request, company, user) -> None:
    """Take away a member's second factors; only an owner of every company they work in
    may, since the same second factor guards all of them."""
    name = user.get_username()
    if not manages_everywhere(request.user, user):
        messages.error(
            request,
            f"{name} also works in a company whose staff you do not manage: an owner of "
            "every company they work in may reset their two-factor sign-in.",
        )
        return
    actions.reset_two_factor(company, user, actor=actor(request))
    again = (
        "they set it up again at their next sign-in"
        if two_factor.required_for(user)
        else "they sign in with their password alone until they set it up again"
    )
    messages.success(request, f"{name}: two-factor sign-in reset; {again}.")

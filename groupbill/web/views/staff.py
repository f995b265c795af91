from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render
from django_otp import user_has_device

from groupbill.companies import actions
from groupbill.companies.models import StaffMembership
from groupbill.companies.queries import get_company
from groupbill.companies.roles import ROLE_LABELS
from groupbill.errors import DomainError
from groupbill.web.views.common import actor, staff_required


@staff_required
def company_staff(request, company_id: int):
    """An owner's page: who works in the company with which role, and whether they must
    sign in with a second factor."""
    company = get_company(company_id)
    if request.method == "POST":
        try:
            if "two_factor_required" in request.POST:
                required = request.POST["two_factor_required"] == "on"
                actions.set_two_factor_required(company, required, actor=actor(request))
                messages.success(
                    request,
                    "Two-factor sign-in is now required."
                    if required
                    else "Two-factor sign-in is no longer required.",
                )
            else:
                user = get_user_model().objects.get(pk=int(request.POST["user"]), is_staff=True)
                role = request.POST.get("role") or None
                actions.set_staff_role(company, user, role, actor=actor(request))
                messages.success(request, f"{user.get_username()}: role saved.")
        except (DomainError, ValueError, KeyError, get_user_model().DoesNotExist) as exc:
            messages.error(request, getattr(exc, "message", "Choose a staff user and a role."))
        return redirect("web:company_staff", company_id=company.pk)
    roles = dict(StaffMembership.objects.filter(company=company).values_list("user_id", "role"))
    staff = [
        {"user": u, "role": roles.get(u.pk), "two_factor": user_has_device(u)}
        for u in get_user_model().objects.filter(is_staff=True).order_by("username")
    ]
    return render(
        request,
        "web/companies/staff.html",
        {"company": company, "staff": staff, "roles": ROLE_LABELS.items()},
    )

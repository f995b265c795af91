"""Message templates per company: which keys are customised, and an edit page with the
documented context, Preview (renders without saving), Save and Reset to default."""

from django.contrib import messages
from django.shortcuts import redirect, render

from groupbill.companies.queries import get_company
from groupbill.errors import DomainError
from groupbill.notices import rendering, templates
from groupbill.notices.models import MessageTemplate
from groupbill.web.views.common import actor, staff_required


@staff_required
def template_list(request, company_id: int):
    company = get_company(company_id)
    own = dict(MessageTemplate.objects.filter(company=company).values_list("key", "updated_at"))
    rows = [{"key": key, "customised": key in own, "updated_at": own.get(key)}
            for key in rendering.DEFAULTS]  # fmt: skip
    return render(request, "web/message_templates/list.html", {"company": company, "rows": rows})


@staff_required
def template_edit(request, company_id: int, key: str):
    company = get_company(company_id)
    if key not in rendering.DEFAULTS:
        return redirect("web:message_template_list", company_id=company.pk)
    source = rendering.source_for(key, company)
    data = {"subject": source.subject, "text": source.text, "html": source.html}
    errors, result = [], None
    if request.method == "POST":
        action = request.POST.get("action", "")
        data = {f: request.POST.get(f, "") for f in templates.FIELDS}
        try:
            if action == "reset":
                templates.reset_template(company, key, actor=actor(request))
                messages.success(request, f"{key}: back to the default wording.")
                return redirect("web:message_template_edit", company_id=company.pk, key=key)
            if action == "save":
                templates.save_template(company, key, data, actor=actor(request))
                messages.success(request, f"{key}: saved.")
                return redirect("web:message_template_edit", company_id=company.pk, key=key)
            result = templates.preview(company, key, data)
        except DomainError as exc:
            errors = exc.errors or []
            if not errors:
                messages.error(request, exc.message)
    return render(
        request,
        "web/message_templates/edit.html",
        {
            "company": company,
            "key": key,
            "data": data,
            "errors": errors,
            "context_doc": rendering.CONTEXTS[key],
            "customised": MessageTemplate.objects.filter(company=company, key=key).exists(),
            "preview": result,
        },
    )

"""CSV import for staff: upload a file, see what each row would do, then import it. The
upload is kept server-side (importers.models.CsvUpload) between the two steps and named by
id and hash, so what is imported is exactly the file previewed."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from groupbill.companies.queries import get_company
from groupbill.importers import csv_import
from groupbill.web.views.common import actor, staff_required

KIND_LABELS = {
    "clients": "Clients with their primary contact",
    "contacts": "Contacts of existing clients",
    "services": "Services of existing clients",
}


@staff_required
def csv_import_page(request, company_id: int):
    company = get_company(company_id)
    kind = request.POST.get("kind") or request.GET.get("kind") or "clients"
    if kind not in csv_import.KINDS:
        kind = "clients"
    context = {
        "company": company,
        "kind": kind,
        "kinds": KIND_LABELS,
        "columns": csv_import.COLUMNS,
    }
    if request.method == "POST" and request.POST.get("step") == "import":
        upload = csv_import.take_upload(
            company,
            request.POST.get("upload"),
            request.POST.get("sha256", ""),
            actor=actor(request),
        )
        result = csv_import.apply(company, upload.kind, bytes(upload.content), actor=actor(request))
        if result.written:
            upload.delete()
            messages.success(
                request,
                f"Imported {upload.filename or 'the file'} ({upload.kind}): {result.summary()}.",
            )
            return redirect(f"{request.path}?kind={upload.kind}")
        context |= {"preview": result, "filename": upload.filename, "kind": upload.kind}
    elif request.method == "POST":
        file = request.FILES.get("file")
        if file is None:
            context["form_error"] = "Choose a CSV file to upload."
        else:
            content = file.read(csv_import.MAX_BYTES + 1)
            result = csv_import.preview(company, kind, content)
            context |= {"preview": result, "filename": file.name}
            if result.ok and result.rows:
                context["upload"] = csv_import.keep_upload(
                    company, kind, content, filename=file.name, actor=actor(request)
                )
    return render(request, "web/imports/csv.html", context)


@staff_required
def csv_template(request, company_id: int, kind: str):
    get_company(company_id)
    if kind not in csv_import.KINDS:
        raise Http404("No such import kind.")
    response = HttpResponse(csv_import.template(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="groupbill-{kind}.csv"'
    return response

from django.shortcuts import render

from groupbill.billing.models import InvoiceStatus
from groupbill.billing.payments import balances
from groupbill.portal.views.common import client_required
from groupbill.services.models import ServiceStatus


@client_required
def dashboard(request):
    client = request.client
    return render(
        request,
        "portal/dashboard.html",
        {
            "balances": balances([client.pk])[client.pk],
            "open_invoices": client.invoices.filter(status=InvoiceStatus.OPEN).order_by(
                "due_on", "pk"
            ),
            "services": client.services.exclude(status=ServiceStatus.CANCELED)
            .select_related("package", "pricing", "parent__package")
            .order_by("pk"),
        },
    )

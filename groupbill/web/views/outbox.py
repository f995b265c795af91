"""The Outbox page: messages by status, their errors, and resending failed/unknown ones."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from groupbill.errors import DomainError
from groupbill.notices import actions
from groupbill.notices.models import MessageStatus, OutboxMessage
from groupbill.web.views.common import actor, of_my_companies, staff_required


@staff_required
def outbox(request):
    status = request.GET.get("status", "")
    rows = of_my_companies(request, OutboxMessage.objects.select_related("invoice").order_by("-pk"))
    if status in MessageStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "web/outbox/list.html",
        {
            "rows": rows[:200],
            "status": status,
            "statuses": MessageStatus.choices,
            "resendable": [s.value for s in actions.RESENDABLE],
        },
    )


@staff_required
@require_POST
def outbox_resend(request, message_id: int):
    try:
        message = actions.resend(message_id, actor=actor(request))
    except OutboxMessage.DoesNotExist:
        messages.error(request, f"Message #{message_id} does not exist.")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Message #{message.pk} is queued again.")
    back = request.POST.get("status", "")
    url = reverse("web:outbox")
    return redirect(f"{url}?status={back}" if back in MessageStatus.values else url)

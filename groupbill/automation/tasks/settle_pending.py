"""settle_pending: first in every run. A gateway charge or refund, or a module call, left
pending longer than `GROUPBILL_EFFECT_GRACE_SECONDS` (its process died after recording it,
or the answer was lost) is settled: the gateway is asked for the outcome of the attempt's
key and that outcome is booked once (an attempt it never saw is void: nothing was
charged); a module call is made again under its key, which receivers deduplicate on, and
booked. So auto debit never charges a client again for money already taken, and an effect
cut off by a crash happens once.

The grace period is measured on the wall clock, not `as_of`: it asks whether another
process may still be waiting for that answer right now."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.utils import timezone

from groupbill.automation.plan import Action, Failed
from groupbill.automation.view import CompanyView
from groupbill.billing import charges
from groupbill.billing.models import Transaction, TransactionStatus
from groupbill.services import module_calls
from groupbill.services.models import CallStatus, ModuleCall

NAME = "settle_pending"


def _charge(txn_id: int):
    txn = charges.settle(Transaction.objects.get(pk=txn_id))
    if txn.status == TransactionStatus.PENDING:
        if txn.reference:  # the gateway has it and is waiting (3-D Secure): not a failure
            return False
        return Failed("the gateway did not answer; asked again on the next run")
    return {"status": txn.status, "transaction": txn.pk}


def _call(call_id: int):
    call = ModuleCall.objects.get(pk=call_id)
    if call.status != CallStatus.PENDING:
        return False
    call = module_calls.settle(call)
    if call.status != CallStatus.DONE:
        return Failed(f"the module refused: {call.message or 'no reason given'}")
    return {"status": call.status, "module_call": call.pk}


def due(view: CompanyView):
    charges_ = Transaction.objects.filter(company=view.company, status=TransactionStatus.PENDING)
    calls = ModuleCall.objects.filter(
        service__client__company=view.company, status=CallStatus.PENDING
    )
    return [charges_.values("client_id"), calls.values("service__client_id")]


def plan(view: CompanyView) -> list[Action]:
    cutoff = timezone.now() - timedelta(seconds=settings.EFFECT_GRACE_SECONDS)
    actions = [
        Action(
            f"settle:transaction:{txn.pk}",
            f"Settle {txn.kind} #{txn.pk} of client #{txn.client_id} with the {txn.method} gateway",
            partial(_charge, txn.pk),
            txn.client_id,
            txn.amount,
            txn.currency,
            atomic=False,
        )
        for txn in view.scoped(charges.stale_attempts().filter(company=view.company))
    ]
    actions += [
        Action(
            f"settle:module_call:{call.pk}",
            f"Make the {call.action} call of service #{call.service_id} again (key {call.key})",
            partial(_call, call.pk),
            call.service.client_id,
            atomic=False,
        )
        for call in view.scoped(
            module_calls.stale_calls(cutoff, view.company.pk), "service__client_id"
        ).select_related("service")
    ]
    return actions

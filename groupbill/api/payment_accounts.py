"""Payment accounts: a client's tokenised cards and bank accounts, one of them the account
auto debit charges.

An account holds the gateway's token (`reference`) and the last four digits, never a full
number: a reference that looks like a card or account number is refused.
"""

from datetime import date
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, StrictStr

from groupbill.api.auth import actor
from groupbill.api.common import Id, PageQuery, StrictBody, changes, paginate
from groupbill.api.fields import Day, limits, required_text, text
from groupbill.billing import accounts
from groupbill.billing.gateways import GATEWAY_NAMES
from groupbill.billing.models import AccountKind
from groupbill.billing.queries import get_payment_account
from groupbill.clients.queries import get_client

router = Router(tags=["payment accounts"])

Kind = Literal[tuple(AccountKind.values)]  # type: ignore[valid-type]
Gateway = Literal[GATEWAY_NAMES]  # type: ignore[valid-type]


class AccountIn(StrictBody):
    kind: Kind
    gateway: Gateway
    reference: required_text(128)  # the gateway's token for the card or account
    last4: Annotated[StrictStr, limits(pattern=r"^[0-9]{4}$")]
    label: text(64) = ""
    expires_on: Day | None = None
    is_autodebit: StrictBool = False  # true: replaces the client's auto-debit account


class AccountOut(Schema):
    id: int
    client_id: int
    kind: str
    gateway: str
    reference: str
    last4: str
    label: str
    expires_on: date | None
    is_autodebit: bool
    failure_count: int
    autodebit_disabled: bool
    disabled_reason: str


class AccountList(Schema):
    items: list[AccountOut]
    count: int


@router.get("/clients/{client_id}/payment-accounts", response=AccountList)
def list_accounts(request: HttpRequest, client_id: Id, page: PageQuery):
    client = get_client(client_id)
    return paginate(client.payment_accounts.order_by("pk"), page, lambda a: a)


@router.post("/clients/{client_id}/payment-accounts", response={201: AccountOut})
def add_account(request: HttpRequest, client_id: Id, body: AccountIn):
    account = accounts.add_payment_account(
        get_client(client_id), changes(body), actor=actor(request)
    )
    return Status(201, get_payment_account(account.pk))


@router.get("/payment-accounts/{account_id}", response=AccountOut)
def read_account(request: HttpRequest, account_id: Id):
    return get_payment_account(account_id)


@router.delete("/payment-accounts/{account_id}", response={204: None})
def remove_account(request: HttpRequest, account_id: Id):
    accounts.remove_payment_account(get_payment_account(account_id), actor=actor(request))
    return Status(204, None)


@router.post("/payment-accounts/{account_id}/autodebit", response=AccountOut)
def make_autodebit(request: HttpRequest, account_id: Id):
    """Make this the client's auto-debit account, re-enabled and with no failures counted."""
    accounts.set_autodebit(get_payment_account(account_id), actor=actor(request))
    return get_payment_account(account_id)

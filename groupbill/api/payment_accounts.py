"""Payment accounts: a client's tokenised cards and bank accounts, one of them the account
auto debit charges.

An account holds the gateway's token (`reference`) and the last four digits, never a full
number: a reference that looks like a card or account number is refused. For `stripe` the
reference is a PaymentMethod id (`pm_...`): it is attached to the client's Stripe customer,
and kind, last four digits, expiry and label come from Stripe (the ones sent are not used).
"""

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, StrictStr, ValidationError, model_validator

from groupbill.api.auth import actor
from groupbill.api.common import Id, PageQuery, StrictBody, changes, paginate
from groupbill.api.fields import BOOLEAN, Day, limits, never_null, required_text, text
from groupbill.billing import accounts
from groupbill.billing.gateways import KNOWN_GATEWAY_NAMES
from groupbill.billing.models import AccountKind
from groupbill.billing.queries import get_payment_account
from groupbill.clients.queries import get_client

router = Router(tags=["payment accounts"])

Kind = Literal[tuple(AccountKind.values)]  # type: ignore[valid-type]
# Every gateway Groupbill has; one that is not configured here (stripe without its keys) is
# refused with a 422 on `gateway`.
Gateway = Literal[KNOWN_GATEWAY_NAMES]  # type: ignore[valid-type]


# What Stripe says of a card itself; every other gateway needs the caller to say it.
_FROM_THE_CARD = ("kind", "last4")


class AccountIn(StrictBody):
    kind: Kind | None = None  # required, except for stripe (read from the card)
    gateway: Gateway
    reference: required_text(128)  # the gateway's token for the card or account
    last4: Annotated[StrictStr, limits(pattern=r"^[0-9]{4}$")] | None = None  # as `kind`
    label: text(64) = ""
    expires_on: Day | None = None
    is_autodebit: StrictBool = False  # true: replaces the client's auto-debit account

    @model_validator(mode="wrap")
    @classmethod
    def _card_facts_required(cls, data: Any, handler):
        """`kind` and `last4` are required unless the gateway is stripe, and reported
        missing together with the body's other errors."""
        missing = []
        if isinstance(data, dict) and data.get("gateway") != "stripe":
            missing = [
                {"type": "missing", "loc": (name,), "input": data}
                for name in _FROM_THE_CARD
                if data.get(name) is None
            ]
        try:
            body = handler(data)
        except ValidationError as exc:
            if not missing:
                raise
            raise ValidationError.from_exception_data(
                cls.__name__, exc.errors() + missing
            ) from None
        if missing:
            raise ValidationError.from_exception_data(cls.__name__, missing)
        return body


class AccountPatch(StrictBody):
    """What is left out stays; neither may be null."""

    label: never_null({"type": "string", "maxLength": 64}) = None
    is_autodebit: never_null(BOOLEAN, StrictBool) = None  # false: no account auto debits


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
    data = {name: value for name, value in changes(body).items() if value is not None}
    account = accounts.add_payment_account(get_client(client_id), data, actor=actor(request))
    return Status(201, get_payment_account(account.pk))


@router.get("/payment-accounts/{account_id}", response=AccountOut)
def read_account(request: HttpRequest, account_id: Id):
    return get_payment_account(account_id)


@router.patch("/payment-accounts/{account_id}", response=AccountOut)
def update_account(request: HttpRequest, account_id: Id, body: AccountPatch):
    """Rename the account, or turn auto debit on it on (re-enabled, no failures counted;
    it replaces the client's auto-debit account) or off."""
    account = get_payment_account(account_id)
    accounts.update_payment_account(account, changes(body), actor=actor(request))
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

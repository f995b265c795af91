"""Which tax rates apply to a client, and the tax of a line. Rates come from the company's
rules by country and state (the most specific rule of each level wins); tax-exempt clients
pay none. The place is the primary contact's country and state."""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from groupbill import money
from groupbill.clients.models import Client, Contact, ContactRole
from groupbill.companies.models import TaxRule


@dataclass(frozen=True)
class AppliedRate:
    level: int
    name: str
    rate: Decimal
    inclusive: bool


def rates_for(client: Client) -> list[AppliedRate]:
    """At most one rate per level, level 1 first."""
    if client.tax_exempt:
        return []
    place = (
        Contact.objects.filter(client=client, role=ContactRole.PRIMARY)
        .values("country", "state")
        .first()
    )
    if not place or not place["country"]:
        return []
    rules = TaxRule.objects.filter(company_id=client.company_id, country=place["country"])
    best: dict[int, TaxRule] = {}
    for rule in rules:
        if rule.state and rule.state.lower() != place["state"].lower():
            continue
        current = best.get(rule.level)
        if current is None or (rule.state and not current.state):
            best[rule.level] = rule
    return [AppliedRate(r.level, r.name, r.rate, r.inclusive) for _, r in sorted(best.items())]


def line_taxes(amount: int, rates: list[AppliedRate], mode: str) -> list[int]:
    """Tax per rate for a line of `amount`. Exclusive rates are added on top of the amount;
    inclusive rates are contained in it (their tax is found once over their combined rate
    and split between them, so the parts add up)."""
    taxes = [0] * len(rates)
    inclusive = [i for i, r in enumerate(rates) if r.inclusive]
    for i, r in enumerate(rates):
        if not r.inclusive:
            taxes[i] = money.tax_on(amount, r.rate, mode)
    if inclusive:
        combined = sum(Fraction(rates[i].rate) for i in inclusive)
        total = money.tax_within(amount, combined, mode)
        weights = [Fraction(rates[i].rate) for i in inclusive]
        parts = money.split(total, weights, mode) if combined else [0] * len(inclusive)
        for i, part in zip(inclusive, parts, strict=True):
            taxes[i] = part
    return taxes

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


def _best(rules, country: str, state: str) -> list[AppliedRate]:
    """At most one rate per level, level 1 first: a rule of the state beats one of the
    whole country."""
    best: dict[int, TaxRule] = {}
    for rule in rules:
        if rule.country != country or (rule.state and rule.state.lower() != state.lower()):
            continue
        current = best.get(rule.level)
        if current is None or (rule.state and not current.state):
            best[rule.level] = rule
    return [AppliedRate(r.level, r.name, r.rate, r.inclusive) for _, r in sorted(best.items())]


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
    return _best(rules, place["country"], place["state"])


def rates_for_clients(company_id: int, client_ids) -> dict[int, list[AppliedRate]]:
    """`rates_for` of many clients of a company in three queries."""
    out: dict[int, list[AppliedRate]] = {cid: [] for cid in client_ids}
    exempt = set(Client.objects.filter(pk__in=out, tax_exempt=True).values_list("pk", flat=True))
    places = {
        client_id: (country, state)
        for client_id, country, state in Contact.objects.filter(
            client_id__in=out, role=ContactRole.PRIMARY
        ).values_list("client_id", "country", "state")
    }
    rules = list(TaxRule.objects.filter(company_id=company_id))
    if not rules:
        return out
    for client_id, (country, state) in places.items():
        if client_id not in exempt and country:
            out[client_id] = _best(rules, country, state)
    return out


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

"""The tax decision for a client's lines: which rates apply, by which rule, and why.

A company either taxes by its own rules by place (country and state, the most specific
rule of each level wins) or charges VAT by the EU's rules:

- a buyer in the seller's country, or with no country given: the seller's country's VAT;
- a business elsewhere in the EU (a valid VAT ID of a member state): reverse charge, 0 %;
- a consumer elsewhere in the EU: the VAT of the buyer's country;
- a buyer outside the EU: none.

Tax-exempt clients pay none either way. The place is the primary contact's country and
state. The decision (rates, rule, reason) is stored on each line, so a later rate or a
moved client never changes an invoice already made."""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from babel import Locale

from groupbill import money, vat_numbers
from groupbill.billing import parties
from groupbill.billing.models import VatRate
from groupbill.clients.models import Client
from groupbill.companies.models import Company, TaxRule
from groupbill.errors import ValidationFailed

REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT is to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC)."
)


class Rule:
    EXEMPT = "exempt"
    RULES = "rules"  # the company's own rules by place
    DOMESTIC = "domestic"
    REVERSE_CHARGE = "reverse_charge"
    DESTINATION = "destination"
    OUTSIDE_EU = "outside_eu"


@dataclass(frozen=True)
class AppliedRate:
    level: int
    name: str
    rate: Decimal
    inclusive: bool


@dataclass(frozen=True)
class TaxDecision:
    rates: list[AppliedRate]
    rule: str
    reason: str


@dataclass(frozen=True)
class Buyer:
    country: str
    state: str
    tax_id: str
    exempt: bool


def country_name(code: str) -> str:
    return Locale("en").territories.get(code, code)


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


class VatTable:
    """Standard VAT rates by country and day, loaded once."""

    def __init__(self, rows):
        self._days: dict[str, list[date]] = defaultdict(list)
        self._rates: dict[str, list[Decimal]] = defaultdict(list)
        for country, rate, valid_from in rows:  # ordered by country, then day
            self._days[country].append(valid_from)
            self._rates[country].append(rate)

    @classmethod
    def load(cls) -> "VatTable":
        return cls(VatRate.objects.order_by("country", "valid_from").values_list(
            "country", "rate", "valid_from"))  # fmt: skip

    def rate(self, country: str, on: date) -> Decimal:
        i = bisect_right(self._days.get(country, []), on)
        if i == 0:
            raise ValidationFailed.one(
                "lines", f"no VAT rate of {country_name(country)} is known for {on}"
            )
        return self._rates[country][i - 1]


def _vat(rate: Decimal) -> list[AppliedRate]:
    return [AppliedRate(1, "VAT", rate, False)]


def decide_eu(seller_country: str, buyer: Buyer, on: date, table: VatTable) -> TaxDecision:
    """VAT by the EU's rules for a seller in `seller_country` (a member state)."""
    seller_name = country_name(seller_country)
    if not buyer.country or buyer.country == seller_country:
        rate = table.rate(seller_country, on)
        where = f"a buyer in {seller_name}" if buyer.country else "no billing country given"
        return TaxDecision(_vat(rate), Rule.DOMESTIC,
                           f"VAT of {seller_name} at {rate.normalize():f}%: {where}")  # fmt: skip
    buyer_name = country_name(buyer.country)
    if buyer.country not in vat_numbers.EU_COUNTRIES:
        return TaxDecision([], Rule.OUTSIDE_EU, f"No EU VAT: the buyer is in {buyer_name}, "
                                                "outside the EU")  # fmt: skip
    if vat_numbers.is_valid(buyer.tax_id):
        return TaxDecision([], Rule.REVERSE_CHARGE,
                           f"{REVERSE_CHARGE_NOTE} Buyer's VAT ID: {buyer.tax_id}")  # fmt: skip
    rate = table.rate(buyer.country, on)
    return TaxDecision(_vat(rate), Rule.DESTINATION,
                       f"VAT of {buyer_name} at {rate.normalize():f}%: a consumer in "
                       f"{buyer_name}")  # fmt: skip


class Taxes:
    """What the tax decisions of some of a company's clients need, loaded at once (four
    queries at most, whatever the number of clients)."""

    def __init__(self, company: Company, buyers: dict[int, Buyer], rules, table: VatTable | None):
        self.company = company
        self.buyers = buyers
        self._decided: dict[tuple[Buyer, date], TaxDecision] = {}
        self.rules = rules
        self.table = table

    @classmethod
    def load(cls, company: Company, client_ids, known: parties.Known | None = None) -> "Taxes":
        """What the clients' decisions need (`known`: as `parties.read` gave it for them)."""
        contacts, clients = known or parties.read(client_ids)
        no_place = {"country": "", "state": ""}
        buyers = {}
        for pk, (tax_id, exempt) in clients.items():
            place = contacts.get(pk, no_place)
            buyers[pk] = Buyer(place["country"], place["state"], tax_id, exempt)
        if company.charges_eu_vat:
            return cls(company, buyers, [], VatTable.load())
        return cls(company, buyers, list(TaxRule.objects.filter(company=company)), None)

    def decide(self, client_id: int, on: date) -> TaxDecision:
        """The decision for this client's invoice issued on `on`: one object for all the
        clients that buy alike on that day (so a caller may remember work by it)."""
        key = (self.buyers[client_id], on)
        if key not in self._decided:
            self._decided[key] = self._decide(*key)
        return self._decided[key]

    def _decide(self, buyer: Buyer, on: date) -> TaxDecision:
        if buyer.exempt:
            return TaxDecision([], Rule.EXEMPT, "Tax-exempt client")
        if self.table is not None:
            return decide_eu(self.company.country, buyer, on, self.table)
        if not buyer.country or not self.rules:
            return TaxDecision([], "", "")
        rates = _best(self.rules, buyer.country, buyer.state)
        return TaxDecision(rates, Rule.RULES if rates else "", "")


def notes_of(lines) -> list[str]:
    """What an invoice must say of its untaxed lines (reverse charge, outside the EU), once."""
    untaxed = (Rule.REVERSE_CHARGE, Rule.OUTSIDE_EU)
    reasons = (line.tax_reason for line in lines if line.tax_rule in untaxed)
    return list(dict.fromkeys(reason for reason in reasons if reason))


def decision_for(client: Client, on: date) -> TaxDecision:
    return Taxes.load(client.company, [client.pk]).decide(client.pk, on)


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

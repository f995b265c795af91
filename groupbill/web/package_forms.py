"""The package pages' forms: identity fields, a prices table and an option's values grid,
all plain HTML that works without JavaScript.

People type amounts as decimals ("12.50"); they become minor units here, with as many
decimals as the currency has. Everything else is validated by the catalogue's actions,
whose errors (dotted paths such as "prices.1.count" or "values.0.prices.2.price") are put
back on the row and cell they name (`put_errors`)."""

from dataclasses import dataclass, field
from typing import Any

from django import forms

from groupbill import money
from groupbill.catalog.cleaning import MODULES, term_label
from groupbill.catalog.models import OptionKind, PricingUnit, TermPriced
from groupbill.currencies import clean_currency
from groupbill.errors import DomainError, FieldError

_NARROW = "min-width:0; width:%srem"  # amount cells: the shared text-input width is too wide
MODULE_LABELS = {"none": "None", "test": "Test (scripted)", "webhook": "Webhook"}


def price_label(price: TermPriced) -> str:
    """ "12.50 EUR / 1 month + 5.00 setup" for display."""
    amount = f"{money.format_plain(price.price, price.currency)} {price.currency}"
    text = f"{amount} / {price.term_label()}"
    if price.setup_fee:
        text += f" + {money.format_plain(price.setup_fee, price.currency)} setup"
    return text


def _amount_text(minor: int, currency: str) -> str:
    return money.format_plain(minor, currency)


def _row_number(prefix: str | None) -> str:
    tail = (prefix or "").rsplit("-", 1)[-1]
    return str(int(tail) + 1) if tail.isdigit() else ""


class PackageForm(forms.Form):
    name = forms.CharField(max_length=128)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 24})
    )
    module = forms.ChoiceField(
        choices=[(m, MODULE_LABELS.get(m, m)) for m in MODULES],
        initial="none",
        label="Provisioning module",
    )
    webhook_url = forms.CharField(
        required=False, max_length=200, label="Webhook URL", help_text="Webhook module only"
    )
    webhook_secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhook module only; at least 16 characters",
    )
    client_can_order_as_addon = forms.BooleanField(
        required=False, initial=True, label="Clients may order it as an addon"
    )
    addon_of = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Addon of",
        help_text="Packages this one can be added to",
    )

    def __init__(self, *args, others=(), has_secret: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["addon_of"].choices = [(p.pk, p.name) for p in others]
        if has_secret:
            self.fields["webhook_secret"].help_text = "A secret is set; leave blank to keep it"

    def package_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not data["webhook_secret"]:
            data.pop("webhook_secret")  # blank keeps the current secret
        return data


class PriceRowForm(forms.Form):
    unit = forms.ChoiceField(choices=PricingUnit.choices, initial=PricingUnit.MONTH)
    count = forms.IntegerField(required=False, initial=1)
    currency = forms.CharField(required=False, max_length=3)
    price = forms.CharField(required=False, max_length=32)
    setup_fee = forms.CharField(required=False, max_length=32, label="Setup fee")

    def __init__(self, *args, currency: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = currency
        row = _row_number(self.prefix)
        for name, f in self.fields.items():
            f.widget.attrs["aria-label"] = f"{f.label or name.capitalize()}, price row {row}"
        self.fields["count"].widget.attrs.update(min=1, max=36)
        self.fields["currency"].widget.attrs["style"] = _NARROW % 4.5
        for name in ("price", "setup_fee"):
            self.fields[name].widget.attrs["style"] = _NARROW % 8


PriceFormSet = forms.formset_factory(PriceRowForm, extra=3)


def price_initial(prices) -> list[dict[str, Any]]:
    return [
        {
            "unit": p.unit,
            "count": p.count,
            "currency": p.currency,
            "price": _amount_text(p.price, p.currency),
            "setup_fee": _amount_text(p.setup_fee, p.currency) if p.setup_fee else "",
        }
        for p in prices
    ]


def _parse(text: str, currency: str | None, at: str, errors: list[FieldError]) -> int:
    if not text:
        return 0
    if currency is None:
        return 0  # the currency's own error is reported; nothing is saved
    try:
        return money.parse(text, currency)
    except ValueError as exc:
        message = str(exc) if "decimal place" in str(exc) else "must be an amount like 12.50"
        errors.append(FieldError(at, message))
        return 0


def _currency(text: str) -> str | None:
    try:
        return clean_currency(text)
    except ValueError:
        return None


@dataclass
class Table:
    """Filled rows of a table as the action takes them, and where each came from: row
    k of the list is form `rows[k]`; its price m is column `cols[k][m]` (grids only)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    cols: list[list[int]] = field(default_factory=list)
    # Amounts that could not be read: the action's `unreadable`, reported with its own.
    errors: list[FieldError] = field(default_factory=list)


def prices_from(formset) -> Table:
    """Rows with a price or a setup fee; a row with neither is left out (removed)."""
    table = Table()
    for i, form in enumerate(formset.forms):
        data = getattr(form, "cleaned_data", None) or {}
        price, setup = (data.get("price") or "").strip(), (data.get("setup_fee") or "").strip()
        if not price and not setup:
            continue
        at = f"prices.{len(table.items)}"
        currency_text = (data.get("currency") or "").strip()
        currency = _currency(currency_text)
        item: dict[str, Any] = {"unit": data.get("unit") or "", "currency": currency_text}
        if data.get("count") is not None:
            item["count"] = data["count"]
        if price:
            item["price"] = _parse(price, currency, f"{at}.price", table.errors)
        item["setup_fee"] = _parse(setup, currency, f"{at}.setup_fee", table.errors)
        table.items.append(item)
        table.rows.append(i)
    return table


class OptionForm(forms.Form):
    name = forms.CharField(max_length=128)
    kind = forms.ChoiceField(
        choices=OptionKind.choices,
        initial=OptionKind.SELECT,
        help_text="A quantity option has exactly one value, priced per unit",
    )


@dataclass(frozen=True)
class TermColumn:
    unit: str
    count: int
    currency: str

    @property
    def label(self) -> str:
        return term_label(self.unit, self.count, self.currency)


def term_columns(package_prices, option_prices=()) -> list[TermColumn]:
    """The grid's columns: the package's terms, then any other term an option value has."""
    seen: dict[tuple, TermColumn] = {}
    for p in [*package_prices, *option_prices]:
        seen.setdefault((p.unit, p.count, p.currency), TermColumn(p.unit, p.count, p.currency))
    return list(seen.values())


class ValueRowForm(forms.Form):
    """One value of an option: its name and, per term column, a price and a setup fee.
    A blank price cell means the value is not offered in that term; 0 means free."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(required=False, max_length=128)

    def __init__(self, *args, columns: list[TermColumn] = (), **kwargs):
        super().__init__(*args, **kwargs)
        row = _row_number(self.prefix)
        self.fields["name"].widget.attrs["aria-label"] = f"Value name, row {row}"
        self.columns = list(columns)
        for j, column in enumerate(self.columns):
            for kind, label in (("price", "Price"), ("setup", "Setup fee")):
                f = forms.CharField(required=False, max_length=32)
                f.widget.attrs["style"] = _NARROW % 6
                f.widget.attrs["aria-label"] = f"{label} {column.label}, row {row}"
                self.fields[f"{kind}_{j}"] = f

    def cells(self):
        """(column, price field, setup field) for the template."""
        return [(c, self[f"price_{j}"], self[f"setup_{j}"]) for j, c in enumerate(self.columns)]


ValueFormSet = forms.formset_factory(ValueRowForm, extra=3)


def value_initial(values, columns: list[TermColumn]) -> list[dict[str, Any]]:
    rows = []
    for value in values:
        row: dict[str, Any] = {"id": value.pk, "name": value.name}
        by_key = {(p.unit, p.count, p.currency): p for p in value.prices.all()}
        for j, c in enumerate(columns):
            p = by_key.get((c.unit, c.count, c.currency))
            if p is not None:
                row[f"price_{j}"] = _amount_text(p.price, p.currency)
                row[f"setup_{j}"] = _amount_text(p.setup_fee, p.currency) if p.setup_fee else ""
        rows.append(row)
    return rows


def values_from(formset, columns: list[TermColumn]) -> Table:
    """Rows with a name or any price; a blank row is left out (an existing value in it is
    removed)."""
    table = Table()
    for i, form in enumerate(formset.forms):
        data = getattr(form, "cleaned_data", None) or {}
        name = (data.get("name") or "").strip()
        cells = [
            ((data.get(f"price_{j}") or "").strip(), (data.get(f"setup_{j}") or "").strip())
            for j in range(len(columns))
        ]
        if not name and not any(p or s for p, s in cells):
            continue
        k = len(table.items)
        prices, cols = [], []
        for j, (price, setup) in enumerate(cells):
            if not price and not setup:
                continue
            column, at = columns[j], f"values.{k}.prices.{len(prices)}"
            item: dict[str, Any] = {"unit": column.unit, "count": column.count,
                                    "currency": column.currency}  # fmt: skip
            if price:
                item["price"] = _parse(price, column.currency, f"{at}.price", table.errors)
            item["setup_fee"] = _parse(setup, column.currency, f"{at}.setup_fee", table.errors)
            prices.append(item)
            cols.append(j)
        table.items.append({"id": data.get("id"), "name": name, "prices": prices})
        table.rows.append(i)
        table.cols.append(cols)
    return table


def put_errors(
    exc: DomainError, form: forms.Form, name: str, formset, table: Table, *, grid: bool = False
) -> None:
    """Put the action's errors where they belong: `name.k...` on table row `rows[k]` (and
    in a grid, `name.k.prices.m.price` on cell `cols[k][m]`), the rest on `form`. The
    table's own errors (amounts that could not be read) are among them: the action was
    given them as `unreadable`."""
    if not exc.errors:
        form.add_error(None, exc.message)
    for error in exc.errors:
        parts = error.field.split(".")
        in_table = parts[0] == name and len(parts) > 1 and parts[1].isdigit()
        if not in_table or int(parts[1]) >= len(table.rows):
            if error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                label = error.field.replace("_", " ").capitalize()
                form.add_error(None, f"{label}: {error.message}")
            continue
        k = int(parts[1])
        row = formset.forms[table.rows[k]]
        target = parts[2] if len(parts) > 2 else None
        if grid and target == "prices":
            target = None
            if len(parts) > 4 and parts[3].isdigit() and parts[4] in ("price", "setup_fee"):
                j = table.cols[k][int(parts[3])]
                target = f"{'price' if parts[4] == 'price' else 'setup'}_{j}"
        if target in row.fields and target != "id":
            row.add_error(target, error.message)
        else:
            row.add_error(None, error.message)

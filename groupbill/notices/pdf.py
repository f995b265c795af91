"""Invoices as printable A4 PDFs, written with fpdf2 (a pure-Python wheel).

`invoice_pdf(invoice)` is one invoice; `batch_pdf(invoices)` is many in one file, each
starting on a new page with its own page numbers (the paper print queue prints it at once).

fpdf2's core fonts (Helvetica) encode latin-1 only and need no font files. Every text goes
through `_latin1`: typographic punctuation becomes its ASCII look-alike, accented letters
outside latin-1 lose the accent, anything else becomes "?". A currency symbol outside latin-1
(the euro sign) is written as the ISO code instead ("EUR 12.50"). No client text can make
rendering fail.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_symbol
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from groupbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from groupbill.clients.models import Contact, ContactRole
from groupbill.money import to_decimal

FONT = "Helvetica"
GREY = (110, 110, 110)
RULE = (200, 200, 200)
_PUNCTUATION = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2026": "...", "\u2022": "*", "\u2009": " ", "\u202f": " ", "\u2007": " ", "\u200b": "",
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0126": "H", "\u0127": "h",
    "\u0131": "i", "\u0152": "OE", "\u0153": "oe", "\u1e9e": "SS", "\u20ac": "EUR",
})  # fmt: skip


def _latin1(text: str) -> str:
    """`text` in characters the core fonts can draw."""
    text = str(text).translate(_PUNCTUATION)
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        try:
            out.append(base.encode("latin-1").decode("latin-1") if base else "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


def locale_for(language: str) -> str:
    try:
        return str(Locale.parse(language.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return "en"


def money_text(minor: int, currency: str, locale: str = "en_US") -> str:
    """Minor units formatted by Babel for `currency`; a symbol the core fonts lack is
    written as the ISO code."""
    text = format_currency(to_decimal(minor, currency), currency, locale=locale)
    symbol = get_currency_symbol(currency, locale=locale)
    if _latin1(symbol) != symbol and symbol in text:
        text = text.replace(symbol, f" {currency} ").replace("  ", " ").strip()
        text = text.replace("- ", "-").replace("\xa0 ", "\xa0").replace(" \xa0", "\xa0")
    return _latin1(text)


def date_text(day: date | None, locale: str) -> str:
    return format_date(day, format="medium", locale=locale) if day else "-"


def rate_text(rate: Decimal, locale: str) -> str:
    return f"{format_decimal(rate.normalize(), locale=locale)}%"


class _Document(FPDF):
    """Footer: the invoice's label and its own page count (several invoices share a file)."""

    label = ""
    first_page = 1

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, size=8)
        self.set_text_color(*GREY)
        page = self.page_no() - self.first_page + 1
        self.cell(0, 5, _latin1(f"{self.label} - page {page}"), align="C")
        self.set_text_color(0, 0, 0)


def _contacts(invoice: Invoice) -> tuple[Contact | None, Contact | None]:
    contacts = list(invoice.client.contacts.all())  # prefetched
    primary = next((c for c in contacts if c.role == ContactRole.PRIMARY), None)
    billing = next((c for c in contacts if c.role == ContactRole.BILLING), None)
    return primary, billing


def _address(contact: Contact) -> list[str]:
    name = f"{contact.first_name} {contact.last_name}".strip()
    city = " ".join(p for p in (contact.zip, contact.city) if p)
    lines = [name, contact.company, contact.address1, contact.address2,
             ", ".join(p for p in (city, contact.state) if p), contact.country]  # fmt: skip
    return [line for line in lines if line]


@dataclass(frozen=True, slots=True)
class _Formats:
    """How one invoice writes money, dates and rates: its currency, its client's locale."""

    locale: str
    currency: str

    def money(self, minor: int) -> str:
        return money_text(minor, self.currency, self.locale)

    def date(self, day: date | None) -> str:
        return date_text(day, self.locale)

    def rate(self, rate: Decimal) -> str:
        return rate_text(rate, self.locale)


def _write_invoice(pdf: _Document, invoice: Invoice) -> None:
    """One invoice from a new page: header, parties and dates, lines, totals, closing."""
    fmt = _Formats(locale_for(invoice.client.language), invoice.currency)
    title = f"Invoice {invoice.number}" if invoice.number else "Draft"
    pdf.label = title if invoice.number else f"Draft invoice #{invoice.pk}"
    pdf.add_page()
    pdf.first_page = pdf.page_no()
    _write_header(pdf, invoice, title)
    _write_parties(pdf, invoice, fmt)
    lines = _write_lines(pdf, invoice, fmt)
    _write_totals(pdf, invoice, lines, fmt)
    _write_closing(pdf, invoice)


def _write_header(pdf: _Document, invoice: Invoice, title: str) -> None:
    """The company left, the title right."""
    width = pdf.epw
    top = pdf.get_y()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(width * 0.6, 8, _latin1(invoice.company.name), new_x=XPos.LMARGIN)
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*GREY)
    if invoice.company.notify_email:
        pdf.cell(width * 0.6, 5, _latin1(invoice.company.notify_email), new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)  # fmt: skip
    pdf.set_text_color(0, 0, 0)
    after_company = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width * 0.6, top)
    pdf.set_font(FONT, "B", 20)
    pdf.cell(width * 0.4, 10, _latin1(title), align="R")
    pdf.set_y(max(after_company, top + 12) + 8)


def _write_parties(pdf: _Document, invoice: Invoice, fmt: _Formats) -> None:
    """The addressee left, the invoice's dates and status right, side by side."""
    block = pdf.get_y()
    after_address = _write_bill_to(pdf, invoice)
    after_facts = _write_facts(pdf, invoice, fmt, top=block)
    pdf.set_y(max(after_address, after_facts) + 8)


def _write_bill_to(pdf: _Document, invoice: Invoice) -> float:
    """The primary contact's address, the billing contact and the Tax ID; returns the y
    below them."""
    client = invoice.client
    width = pdf.epw * 0.55
    primary, billing = _contacts(invoice)
    pdf.set_font(FONT, "B", 8)
    pdf.set_text_color(*GREY)
    pdf.cell(width, 5, "BILL TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=10)
    address = _address(primary) if primary else [str(client)]
    for i, line in enumerate(address):
        pdf.set_font(FONT, "B" if i == 0 else "", 10)
        pdf.cell(width, 5, _latin1(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    if billing is not None:
        name = billing.display_name
        who = f"Attn: {name}" + (f" <{billing.email}>" if billing.email and billing.email != name
                                 else "")  # fmt: skip
        pdf.cell(width, 5, _latin1(who), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if client.tax_id:
        pdf.cell(width, 5, _latin1(f"Tax ID: {client.tax_id}"), new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)  # fmt: skip
    return pdf.get_y()


def _write_facts(pdf: _Document, invoice: Invoice, fmt: _Formats, *, top: float) -> float:
    """Label and value rows from `top` in the right column; returns the y below them."""
    width = pdf.epw
    facts = [
        ("Invoice date", fmt.date(invoice.issued_on)),
        ("Due date", fmt.date(invoice.due_on)),
        ("Status", invoice.get_status_display()),
        ("Client", f"#{invoice.client.pk}"),
    ]
    y = top
    for label, value in facts:
        pdf.set_xy(pdf.l_margin + width * 0.55, y)
        pdf.set_font(FONT, size=9)
        pdf.set_text_color(*GREY)
        pdf.cell(width * 0.2, 5, label)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(width * 0.25, 5, _latin1(value), align="R")
        y += 5.5
    return y


def _write_lines(pdf: _Document, invoice: Invoice, fmt: _Formats) -> list[InvoiceLine]:
    """The lines table; returns the lines (the totals sum their taxes)."""
    pdf.set_font(FONT, size=9)
    pdf.set_draw_color(*RULE)
    lines = list(invoice.lines.all())
    with pdf.table(
        col_widths=(84, 12, 28, 28, 28),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        line_height=5,
        padding=1.5,
        headings_style=_heading_style(),
        first_row_as_headings=True,
    ) as table:
        table.row(["Description", "Qty", "Unit price", "Amount", "Tax"])
        for line in lines:
            table.row(_line_cells(line, fmt))
    pdf.ln(4)
    return lines


def _line_cells(line: InvoiceLine, fmt: _Formats) -> list[str]:
    """One table row: the description (with its period under it), quantity, unit price,
    amount, and each tax as "rate amount"."""
    description = line.description
    if line.period_start and line.period_end:
        period = f"{fmt.date(line.period_start)} - "
        period += fmt.date(line.period_last_day)
        description = f"{description}\n{period}"
    taxes = [
        f"{fmt.rate(rate)} {fmt.money(amount)}"
        for rate, amount in ((line.tax1_rate, line.tax1_amount),
                             (line.tax2_rate, line.tax2_amount))
        if amount
    ]  # fmt: skip
    return [_latin1(description), str(line.quantity), fmt.money(line.unit_amount),
            fmt.money(line.amount), "\n".join(taxes) or "-"]  # fmt: skip


def _total_rows(
    invoice: Invoice, lines: list[InvoiceLine], fmt: _Formats
) -> list[tuple[str, str, bool]]:
    """(label, amount, strong): subtotal, taxes, total, payments, balance due."""
    m = fmt.money
    rows = [("Subtotal", m(invoice.subtotal), False)]
    for label, amount in _taxes(lines, fmt.locale):
        rows.append((label, m(amount), False))
    rows.append(("Total", m(invoice.total), True))
    for application in invoice.applications.select_related("transaction"):
        paid_on = application.created_at.date() if application.created_at else None
        rows.append((f"Payment {fmt.date(paid_on)}", m(-application.amount), False))
    rows.append(("Balance due", m(invoice.balance_due), True))
    return rows


def _write_totals(
    pdf: _Document, invoice: Invoice, lines: list[InvoiceLine], fmt: _Formats
) -> None:
    """The totals, right-aligned, kept together on one page; a strong row is ruled above."""
    width = pdf.epw
    rows = _total_rows(invoice, lines, fmt)
    if pdf.will_page_break(len(rows) * 6 + 4):
        pdf.add_page()
    for label, value, strong in rows:
        pdf.set_x(pdf.l_margin + width - 100)
        if strong:
            pdf.set_draw_color(*RULE)
            pdf.line(pdf.get_x(), pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.set_font(FONT, "B" if strong else "", 10)
        pdf.cell(60, 6, _latin1(label))
        pdf.cell(40, 6, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _write_closing(pdf: _Document, invoice: Invoice) -> None:
    """A void invoice says so; then the invoice's notes, small and grey."""
    if invoice.status == InvoiceStatus.VOID:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 12)
        pdf.cell(0, 6, "VOID - this invoice was cancelled.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if invoice.notes:
        pdf.ln(6)
        pdf.set_font(FONT, size=9)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, 4.5, _latin1(invoice.notes), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)


def _heading_style():
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", color=(60, 60, 60), fill_color=(238, 238, 238))


def _taxes(lines, locale: str) -> list[tuple[str, int]]:
    """Tax totals per level and rate, in that order: ("Tax 1 (19%)", amount)."""
    totals: dict[tuple[int, Decimal], int] = {}
    for line in lines:
        for level, rate, amount in ((1, line.tax1_rate, line.tax1_amount),
                                    (2, line.tax2_rate, line.tax2_amount)):  # fmt: skip
            if amount:
                key = (level, Decimal(rate))
                totals[key] = totals.get(key, 0) + amount
    return [
        (f"Tax {level} ({rate_text(rate, locale)})", amount)
        for (level, rate), amount in sorted(totals.items())
    ]


def _document() -> _Document:
    pdf = _Document(format="A4", unit="mm")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title("Invoices")
    return pdf


def _prefetched(invoices: Iterable[Invoice]) -> list[Invoice]:
    ids = [invoice.pk for invoice in invoices]
    found = {
        i.pk: i
        for i in Invoice.objects.filter(pk__in=ids)
        .select_related("company", "client")
        .prefetch_related("lines", "client__contacts")
    }
    return [found[pk] for pk in ids if pk in found]


def invoice_pdf(invoice: Invoice) -> bytes:
    """One invoice as a PDF file's bytes."""
    return batch_pdf([invoice])


def batch_pdf(invoices: Iterable[Invoice]) -> bytes:
    """Several invoices in one PDF, each from a new page, in the order given."""
    pdf = _document()
    for invoice in _prefetched(invoices):
        _write_invoice(pdf, invoice)
    if pdf.page_no() == 0:
        pdf.add_page()
    return bytes(pdf.output())

"""Invoices as printable A4 PDFs, written with fpdf2 (a pure-Python wheel).

`invoice_pdf(invoice)` is one invoice; `batch_pdf(invoices)` is many in one file, each
starting on a new page with its own page numbers (the paper print queue prints it at once).

Text is drawn with DejaVu Sans (bundled in `fonts/`: Latin, Greek, Cyrillic and more) and,
for what DejaVu lacks (Chinese, Japanese, Korean), Droid Sans Fallback, loaded only for a
document that needs it. A character neither font has is drawn as "?": no client text can
make rendering fail.

An issued invoice prints its seller and buyer as they were when it was issued (the
snapshots on the invoice); a draft prints them as they are now.
"""

import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.urls import reverse
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from groupbill.billing import parties
from groupbill.billing.models import CreditNote, Invoice, InvoiceLine, InvoiceStatus
from groupbill.billing.taxes import Rule, country_name, notes_of
from groupbill.clients.models import Client, Contact, ContactRole
from groupbill.errors import ValidationFailed
from groupbill.money import to_decimal

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
FALLBACK = "DroidFallback"
_FILES = {FONT: "DejaVuSans.ttf", FALLBACK: "DroidSansFallback.ttf"}
GREY = (110, 110, 110)
RULE = (200, 200, 200)


@functools.cache
def _codepoints(font: str) -> frozenset[int]:
    return frozenset(TTFont(FONTS / _FILES[font], lazy=True).getBestCmap())


def _drawable(char: str) -> str | None:
    """The character, or what stands for it, if a font has it; else None."""
    if char in "\n\t" or ord(char) in _codepoints(FONT):
        return char
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and all(ord(c) in _codepoints(FONT) for c in base):
        return base
    return None


def locale_for(language: str) -> str:
    try:
        return str(Locale.parse(language.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return "en"


def money_text(minor: int, currency: str, locale: str = "en_US") -> str:
    """Minor units formatted by Babel for `currency`."""
    return format_currency(to_decimal(minor, currency), currency, locale=locale)


def date_text(day: date | None, locale: str) -> str:
    return format_date(day, format="medium", locale=locale) if day else "-"


def rate_text(rate: Decimal, locale: str) -> str:
    return f"{format_decimal(rate.normalize(), locale=locale)}%"


class _Document(FPDF):
    """Footer: the invoice's label and its own page count (several invoices share a file).
    `text` makes any string drawable, loading the fallback font on first need."""

    label = ""
    first_page = 1

    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm")
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self._fallback = False

    def _use_fallback(self) -> None:
        if not self._fallback:
            self.add_font(FALLBACK, "", FONTS / _FILES[FALLBACK])
            self.set_fallback_fonts([FALLBACK], exact_match=False)
            self._fallback = True

    def text(self, value: object) -> str:
        text = str(value)
        out = []
        for char in text:
            drawn = _drawable(char)
            if drawn is None and ord(char) in _codepoints(FALLBACK):
                self._use_fallback()
                drawn = char
            out.append("?" if drawn is None else drawn)
        return "".join(out)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, size=8)
        self.set_text_color(*GREY)
        page = self.page_no() - self.first_page + 1
        self.cell(0, 5, self.text(f"{self.label} - page {page}"), align="C")
        self.set_text_color(0, 0, 0)

    def small_lines(self, width: float, lines: list[str]) -> None:
        self.set_font(FONT, size=9)
        self.set_text_color(*GREY)
        for line in lines:
            self.cell(width, 4.5, self.text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)


def _billing_contact(client: Client) -> Contact | None:
    contacts = list(client.contacts.all())  # prefetched for invoices
    return next((c for c in contacts if c.role == ContactRole.BILLING), None)


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
    seller, buyer = parties.of_invoice(invoice)
    _write_header(pdf, seller, title)
    facts = [
        ("Invoice date", fmt.date(invoice.issued_on)),
        ("Due date", fmt.date(invoice.due_on)),
        ("Status", invoice.get_status_display()),
        ("Client", f"#{invoice.client.pk}"),
    ]
    _write_parties(pdf, invoice.client, buyer, facts)
    lines = list(invoice.lines.all())
    _write_lines(pdf, lines, fmt)
    _write_totals(pdf, _total_rows(invoice, lines, fmt))
    _write_closing(pdf, invoice, lines, seller, fmt)


def _write_credit_note(pdf: _Document, note: CreditNote) -> None:
    """A credit note from a new page, laid out as an invoice: who, which invoice it
    credits, the lines it credits with their taxes, the total credited, and why."""
    invoice = note.invoice
    fmt = _Formats(locale_for(note.client.language), note.currency)
    title = f"Credit note {note.number}"
    pdf.label = title
    pdf.add_page()
    pdf.first_page = pdf.page_no()
    seller, buyer = parties.of_invoice(invoice)
    _write_header(pdf, note.seller or seller, title)
    facts = [
        ("Date", fmt.date(note.issued_on)),
        ("Credits", f"Invoice {invoice.number}"),
        ("Invoice date", fmt.date(invoice.issued_on)),
        ("Client", f"#{note.client_id}"),
    ]
    _write_parties(pdf, note.client, note.buyer or buyer, facts)
    lines = list(note.lines.all())
    _write_lines(pdf, lines, fmt)
    rows = [("Subtotal", fmt.money(note.subtotal), False)]
    rows += [(label, fmt.money(amount), False) for label, amount in _taxes(lines, fmt.locale)]
    rows.append(("Total credited", fmt.money(note.total), True))
    _write_totals(pdf, rows)
    closing = [f"Reason: {note.reason}"] if note.reason else []
    closing.append(
        f"This credit note reduces what Invoice {invoice.number} bills by "
        f"{fmt.money(note.total)}; a payment beyond what it still bills is kept as credit "
        "on your account."
    )
    _write_paragraphs(pdf, notes_of(lines), bold=True)
    _write_paragraphs(pdf, closing, bold=False)


def _seller_lines(seller: dict) -> list[str]:
    lines = list(seller.get("address", []))
    if seller.get("country"):
        lines.append(country_name(seller["country"]))
    if seller.get("vat_id"):
        lines.append(f"VAT ID: {seller['vat_id']}")
    if seller.get("registration_number"):
        lines.append(f"Registration: {seller['registration_number']}")
    if seller.get("email"):
        lines.append(seller["email"])
    return lines


def _write_header(pdf: _Document, seller: dict, title: str) -> None:
    """The seller left (name, address, VAT ID), the title right."""
    width = pdf.epw
    top = pdf.get_y()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(width * 0.6, 8, pdf.text(seller["name"]), new_x=XPos.LMARGIN)
    pdf.small_lines(width * 0.6, _seller_lines(seller))
    after_company = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width * 0.6, top)
    pdf.set_font(FONT, "B", 20)
    pdf.cell(width * 0.4, 10, pdf.text(title), align="R")
    pdf.set_y(max(after_company, top + 12) + 8)


def _write_parties(
    pdf: _Document, client: Client, buyer: dict, facts: list[tuple[str, str]]
) -> None:
    """The buyer left, the document's dates and references right, side by side."""
    block = pdf.get_y()
    after_address = _write_bill_to(pdf, client, buyer)
    after_facts = _write_facts(pdf, facts, top=block)
    pdf.set_y(max(after_address, after_facts) + 8)


def _buyer_lines(buyer: dict) -> list[str]:
    lines = [buyer["name"], buyer.get("attention", ""), *buyer.get("address", [])]
    if buyer.get("country"):
        lines.append(country_name(buyer["country"]))
    return [line for line in lines if line]


def _write_bill_to(pdf: _Document, client: Client, buyer: dict) -> float:
    """The buyer's name and address, the billing contact and the VAT or tax ID; returns
    the y below them."""
    width = pdf.epw * 0.55
    pdf.set_font(FONT, "B", 8)
    pdf.set_text_color(*GREY)
    pdf.cell(width, 5, "BILL TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    for i, line in enumerate(_buyer_lines(buyer) or [str(client)]):
        pdf.set_font(FONT, "B" if i == 0 else "", 10)
        pdf.cell(width, 5, pdf.text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    billing = _billing_contact(client)
    if billing is not None:
        name = billing.display_name
        who = f"Attn: {name}" + (f" <{billing.email}>" if billing.email and billing.email != name
                                 else "")  # fmt: skip
        pdf.cell(width, 5, pdf.text(who), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if buyer.get("vat_id"):
        pdf.cell(width, 5, pdf.text(f"VAT ID: {buyer['vat_id']}"), new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)  # fmt: skip
    return pdf.get_y()


def _write_facts(pdf: _Document, facts: list[tuple[str, str]], *, top: float) -> float:
    """Label and value rows from `top` in the right column; returns the y below them."""
    width = pdf.epw
    y = top
    for label, value in facts:
        pdf.set_xy(pdf.l_margin + width * 0.55, y)
        pdf.set_font(FONT, size=9)
        pdf.set_text_color(*GREY)
        pdf.cell(width * 0.2, 5, label)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(width * 0.25, 5, pdf.text(value), align="R")
        y += 5.5
    return y


def _write_lines(pdf: _Document, lines: list, fmt: _Formats) -> None:
    """The lines table (an invoice's, or the lines a credit note credits)."""
    pdf.set_font(FONT, size=9)
    pdf.set_draw_color(*RULE)
    with pdf.table(
        col_widths=(80, 12, 28, 28, 32),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        line_height=5,
        padding=1.5,
        headings_style=_heading_style(),
        first_row_as_headings=True,
    ) as table:
        table.row(["Description", "Qty", "Unit price", "Amount", "Tax"])
        for line in lines:
            table.row([pdf.text(cell) for cell in _line_cells(line, fmt)])
    pdf.ln(4)


def _line_tax(line: InvoiceLine, fmt: _Formats) -> str:
    if line.tax_rule == Rule.REVERSE_CHARGE:
        return "0% reverse charge"
    taxes = [
        f"{fmt.rate(rate)} {fmt.money(amount)}"
        for rate, amount in ((line.tax1_rate, line.tax1_amount),
                             (line.tax2_rate, line.tax2_amount))
        if amount
    ]  # fmt: skip
    return "\n".join(taxes) or "-"


def _line_cells(line: InvoiceLine, fmt: _Formats) -> list[str]:
    """One table row: the description (with its period under it, once), quantity, unit
    price, amount, and each tax as "rate amount"."""
    description = line.description
    if line.period_start and line.period_end:
        period = f"{fmt.date(line.period_start)} - {fmt.date(line.period_last_day)}"
        description = f"{description}\n{period}"
    return [description, str(line.quantity), fmt.money(line.unit_amount),
            fmt.money(line.amount), _line_tax(line, fmt)]  # fmt: skip


def _total_rows(
    invoice: Invoice, lines: list[InvoiceLine], fmt: _Formats
) -> list[tuple[str, str, bool]]:
    """(label, amount, strong): subtotal, taxes per rate, total, credit notes, payments,
    balance due."""
    m = fmt.money
    rows = [("Subtotal", m(invoice.subtotal), False)]
    for label, amount in _taxes(lines, fmt.locale):
        rows.append((label, m(amount), False))
    rows.append(("Total", m(invoice.total), True))
    for note in sorted(invoice.credit_notes.all(), key=lambda n: n.number):  # prefetched
        rows.append((f"Credit note {note.number} {fmt.date(note.issued_on)}", m(-note.total),
                     False))  # fmt: skip
    for application in invoice.applications.select_related("transaction"):
        paid_on = application.created_at.date() if application.created_at else None
        rows.append((f"Payment {fmt.date(paid_on)}", m(-application.amount), False))
    rows.append(("Balance due", m(invoice.balance_due), True))
    return rows


def _write_totals(pdf: _Document, rows: list[tuple[str, str, bool]]) -> None:
    """The totals, right-aligned, kept together on one page; a strong row is ruled above."""
    width = pdf.epw
    if pdf.will_page_break(len(rows) * 6 + 4):
        pdf.add_page()
    for label, value, strong in rows:
        pdf.set_x(pdf.l_margin + width - 100)
        if strong:
            pdf.set_draw_color(*RULE)
            pdf.line(pdf.get_x(), pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.set_font(FONT, "B" if strong else "", 10)
        pdf.cell(60, 6, pdf.text(label))
        pdf.cell(40, 6, pdf.text(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _pay_link(invoice: Invoice) -> str:
    path = reverse("portal:invoice_pay", kwargs={"invoice_id": invoice.pk})
    base = settings.PORTAL_BASE_URL
    return f"{base}{path}" if base else "your client portal"


def _payment_instructions(invoice: Invoice, seller: dict, fmt: _Formats) -> list[str]:
    if invoice.status != InvoiceStatus.OPEN or invoice.balance_due <= 0:
        return []
    due = f"Please pay {fmt.money(invoice.balance_due)} by {fmt.date(invoice.due_on)}"
    lines = [f"{due}: online at {_pay_link(invoice)}"]
    if seller.get("bank_details"):
        lines.append(f"or by bank transfer to {seller['bank_details']}, "
                     f"reference \"Invoice {invoice.number}\".")  # fmt: skip
    return lines


def _write_closing(
    pdf: _Document, invoice: Invoice, lines: list[InvoiceLine], seller: dict, fmt: _Formats
) -> None:
    """A void invoice says so; then tax notes, how to pay, and the notes, small."""
    if invoice.status == InvoiceStatus.VOID:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 12)
        pdf.cell(0, 6, "VOID - this invoice was cancelled.", new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)  # fmt: skip
    _write_paragraphs(pdf, notes_of(lines), bold=True)
    _write_paragraphs(pdf, _payment_instructions(invoice, seller, fmt), bold=False)
    _write_paragraphs(pdf, [invoice.notes] if invoice.notes else [], bold=False)


def _write_paragraphs(pdf: _Document, paragraphs: list[str], *, bold: bool) -> None:
    """A block of small paragraphs: bold and black (what the law wants said), or grey."""
    if not paragraphs:
        return
    pdf.ln(5)
    pdf.set_font(FONT, "B" if bold else "", 9)
    pdf.set_text_color(*((0, 0, 0) if bold else GREY))
    for paragraph in paragraphs:
        pdf.multi_cell(0, 4.5, pdf.text(paragraph), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _heading_style():
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", color=(60, 60, 60), fill_color=(238, 238, 238))


def _tax_label(level: int, rule: str, rate: Decimal, locale: str) -> str:
    if rule in (Rule.DOMESTIC, Rule.DESTINATION):
        return f"VAT {rate_text(rate, locale)}"
    return f"Tax {level} ({rate_text(rate, locale)})"


def _taxes(lines, locale: str) -> list[tuple[str, int]]:
    """Tax totals per level, rule and rate, in that order: ("VAT 19%", amount), or
    ("Tax 1 (5%)", amount) for the company's own rules; a reverse-charged total shows 0."""
    totals: dict[tuple[int, str, Decimal], int] = {}
    for line in lines:
        if line.tax_rule == Rule.REVERSE_CHARGE:
            totals.setdefault((1, line.tax_rule, Decimal(0)), 0)
        for level, rate, amount in ((1, line.tax1_rate, line.tax1_amount),
                                    (2, line.tax2_rate, line.tax2_amount)):  # fmt: skip
            if amount:
                key = (level, line.tax_rule, Decimal(rate))
                totals[key] = totals.get(key, 0) + amount
    return [
        ("VAT 0% (reverse charge)" if rule == Rule.REVERSE_CHARGE
         else _tax_label(level, rule, rate, locale), amount)
        for (level, rule, rate), amount in sorted(totals.items())
    ]  # fmt: skip


def _document() -> _Document:
    pdf = _Document()
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
        .prefetch_related("lines", "client__contacts", "credit_notes")
    }
    return [found[pk] for pk in ids if pk in found]


def credit_note_pdf(note: CreditNote) -> bytes:
    """One credit note as a PDF file's bytes."""
    note = (
        CreditNote.objects.select_related("company", "client", "invoice__company")
        .prefetch_related("lines", "client__contacts")
        .get(pk=note.pk)
    )
    pdf = _document()
    pdf.set_title(f"Credit note {note.number}")
    _write_credit_note(pdf, note)
    return bytes(pdf.output())


def invoice_pdf(invoice: Invoice) -> bytes:
    """One invoice as a PDF file's bytes."""
    return batch_pdf([invoice])


# The most invoices one PDF holds: a download is made in the request, in memory; more are
# downloaded in several files (the print queue pages by this many).
BATCH_LIMIT = 50


def batch_pdf(invoices: Iterable[Invoice]) -> bytes:
    """Several invoices in one PDF (at most BATCH_LIMIT), each from a new page, in the
    order given."""
    invoices = list(invoices)
    if len(invoices) > BATCH_LIMIT:
        raise ValidationFailed.one(
            "invoices", f"one PDF holds at most {BATCH_LIMIT} invoices, not {len(invoices)}"
        )
    pdf = _document()
    for invoice in _prefetched(invoices):
        _write_invoice(pdf, invoice)
    if pdf.page_no() == 0:
        pdf.add_page()
    return bytes(pdf.output())

"""HTML forms. They only shape input for people; validation that matters is done by the
actions, whose field errors are put back on these forms (`add_domain_errors`)."""

from django import forms

from groupbill.clients.contact_fields import CONTACT_FIELDS
from groupbill.clients.models import ClientStatus, ContactRole
from groupbill.companies.models import RoundingMode
from groupbill.errors import DomainError


def add_domain_errors(form: forms.Form, exc: DomainError) -> None:
    if not exc.errors:
        form.add_error(None, exc.message)
    for error in exc.errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


class CompanyForm(forms.Form):
    name = forms.CharField(max_length=128)
    timezone = forms.CharField(max_length=64, initial="UTC", help_text="e.g. Europe/Berlin")
    default_currency = forms.CharField(max_length=3, initial="USD", help_text="ISO 4217 code")
    notify_email = forms.CharField(required=False, label="Staff notification email", max_length=254)
    rounding_mode = forms.ChoiceField(choices=RoundingMode.choices, initial=RoundingMode.HALF_UP)


class CompanyEditForm(CompanyForm):
    """The company and the seller its invoices name (their legal identity and VAT)."""

    legal_name = forms.CharField(
        required=False, max_length=200, help_text="As invoices print it; the name above if empty"
    )
    address_line1 = forms.CharField(required=False, max_length=200, label="Address")
    address_line2 = forms.CharField(required=False, max_length=200, label="Address (line 2)")
    postcode = forms.CharField(required=False, max_length=32)
    city = forms.CharField(required=False, max_length=128)
    state = forms.CharField(required=False, max_length=128, label="State / region")
    country = forms.CharField(required=False, max_length=2, help_text="ISO code, e.g. DE")
    vat_id = forms.CharField(required=False, max_length=32, label="VAT ID")
    registration_number = forms.CharField(
        required=False, max_length=64, label="Company registration number"
    )
    bank_details = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Printed on invoices for payment by bank transfer",
    )
    charges_eu_vat = forms.BooleanField(required=False, label="Charge VAT by the EU's rules",
                                        help_text="Domestic VAT, reverse charge for businesses "
                                        "in other member states, the buyer's country's rate "
                                        "for consumers there, none outside the EU")  # fmt: skip


class GroupForm(forms.Form):
    name = forms.CharField(max_length=64)
    color = forms.CharField(
        max_length=7, initial="#9E9E9E", widget=forms.TextInput(attrs={"type": "color"})
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def required_for_edit(required, contact) -> list[str]:
    """Of the fields a group requires, those to mark when editing `contact`: the ones it has
    filled. A field still empty (the rule came after the contact) may stay empty, so the
    form must not make the browser insist on it; adding a contact marks them all."""
    return [name for name in required if getattr(contact, name, "")]


class ContactFieldsForm(forms.Form):
    """The contact fields, from their single declaration. `required` names the fields the
    client's group requires, marked for the user (the action enforces them)."""

    def __init__(self, *args, required: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        for f in CONTACT_FIELDS:
            self.fields[f.name] = forms.CharField(
                label=f.label,
                max_length=f.max_length,
                required=False,
                widget=forms.EmailInput() if f.kind == "email" else forms.TextInput(),
            )
            if f.name in required:
                self.fields[f.name].widget.attrs["required"] = True
                self.fields[f.name].label = f"{f.label} *"

    def contact_data(self) -> dict[str, str]:
        return {f.name: self.cleaned_data.get(f.name, "") for f in CONTACT_FIELDS}


class ContactForm(ContactFieldsForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {
            "role": forms.ChoiceField(choices=ContactRole.choices, initial=ContactRole.BILLING),
            **self.fields,
        }


class ClientForm(ContactFieldsForm):
    """Client attributes; on creation also the primary contact's fields."""

    ATTRIBUTES = ("group", "status", "autosuspend", "suspension_delayed_until", "tax_exempt",
                  "tax_id", "default_currency", "language")  # fmt: skip

    def __init__(self, *args, groups=(), with_contact: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        contact_fields = self.fields if with_contact else {}
        self.fields = {
            "group": forms.TypedChoiceField(
                choices=[(g.pk, g.name) for g in groups], coerce=int, label="Client group"
            ),
            "status": forms.ChoiceField(choices=ClientStatus.choices),
            "autosuspend": forms.BooleanField(required=False, initial=True,
                                              label="Suspend automatically when past due"),
            "suspension_delayed_until": forms.DateField(
                required=False, widget=forms.DateInput(attrs={"type": "date"}),
                label="Delay suspension until"),
            "tax_exempt": forms.BooleanField(required=False),
            "tax_id": forms.CharField(required=False, max_length=64, label="Tax ID"),
            "default_currency": forms.CharField(max_length=3, required=False,
                                                help_text="Empty: the company's currency"),
            "language": forms.CharField(max_length=16, initial="en"),
            **contact_fields,
        }  # fmt: skip

    def attribute_data(self) -> dict:
        data = {k: self.cleaned_data[k] for k in self.ATTRIBUTES if k != "group"}
        data["group_id"] = self.cleaned_data["group"]
        if not data["default_currency"]:
            data.pop("default_currency")
        return data

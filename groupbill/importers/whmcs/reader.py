"""What the WHMCS importer reads (../shared/IMPORT.md): the tables and columns, each
table's rows in id order, through the shared reader (groupbill.importers.reader)."""

from groupbill.importers.reader import Reader, ReaderError

__all__ = ["TABLES", "Reader", "ReaderError", "read"]

_CONTACT = (
    "firstname",
    "lastname",
    "companyname",
    "email",
    "address1",
    "address2",
    "city",
    "state",
    "postcode",
    "country",
    "phonenumber",
)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tblconfiguration": (("setting", "value"), ("setting",)),
    "tblcurrencies": (("id", "code", "default"), ("id",)),
    "tblclientgroups": (
        ("id", "groupname", "groupcolour", "discountpercent", "susptermexempt", "separateinvoices"),
        ("id",),
    ),
    "tblclients": (
        (
            "id",
            *_CONTACT,
            "tax_id",
            "currency",
            "credit",
            "taxexempt",
            "overideduenotices",
            "separateinvoices",
            "disableautocc",
            "groupid",
            "status",
        ),
        ("id",),
    ),
    "tblcontacts": (("id", "userid", *_CONTACT, "invoiceemails"), ("id",)),
    "tblproducts": (("id", "gid", "name", "paytype", "retired"), ("id",)),
    "tblpricing": (
        (
            "id",
            "type",
            "currency",
            "relid",
            "msetupfee",
            "qsetupfee",
            "ssetupfee",
            "asetupfee",
            "bsetupfee",
            "tsetupfee",
            "monthly",
            "quarterly",
            "semiannually",
            "annually",
            "biennially",
            "triennially",
        ),
        ("id",),
    ),
    "tblhosting": (
        (
            "id",
            "userid",
            "packageid",
            "amount",
            "billingcycle",
            "nextduedate",
            "nextinvoicedate",
            "domainstatus",
            "overideautosuspend",
            "overidesuspenduntil",
        ),
        ("id",),
    ),
    "tblinvoices": (
        (
            "id",
            "userid",
            "invoicenum",
            "date",
            "duedate",
            "datepaid",
            "subtotal",
            "credit",
            "tax",
            "tax2",
            "total",
            "status",
        ),
        ("id",),
    ),
    "tblinvoiceitems": (("id", "invoiceid", "type", "relid", "description", "amount"), ("id",)),
    "tblaccounts": (
        (
            "id",
            "userid",
            "currency",
            "date",
            "amountin",
            "fees",
            "amountout",
            "transid",
            "invoiceid",
            "refundid",
        ),
        ("id",),
    ),
}
# Read only to say what of them is not imported (absent tables are fine).
NOT_IMPORTED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tblhostingaddons": (("id", "hostingid"), ("id",)),
}


def read(reader: Reader) -> dict[str, list[dict]]:
    """Every table the importer needs, whole (a ReaderError names what is missing)."""
    return reader.tables(TABLES, NOT_IMPORTED)

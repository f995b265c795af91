import django.db.models.deletion
from django.db import migrations, models

# The indexes go by name: altering the fields instead would check every invoice's keys
# again (PostgreSQL) or copy the whole table (SQLite).
INDEXES = {
    "billing_invoice_client_id_01577a63": "client_id",
    "billing_invoice_company_id_f0aed760": "company_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0012_dashboard_indexes"),
        ("clients", "0002_clientnote"),
        ("companies", "0005_apikey_in_companies"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="invoice",
                    name="client",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="invoices",
                        to="clients.client",
                    ),
                ),
                migrations.AlterField(
                    model_name="invoice",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="invoices",
                        to="companies.company",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "billing_invoice" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
        ),
    ]

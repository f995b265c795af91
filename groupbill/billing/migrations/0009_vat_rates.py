from django.db import migrations


def seed(apps, schema_editor):
    from groupbill.billing.vat_rates import STANDARD_RATES

    VatRate = apps.get_model("billing", "VatRate")
    VatRate.objects.bulk_create(
        [VatRate(country=c, rate=r, valid_from=d) for c, r, d in STANDARD_RATES],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_vat")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

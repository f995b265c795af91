"""What an import created, by the source's identity of it."""

from django.db import models


class ExternalId(models.Model):
    """(source system, table, source id) → the Groupbill object made from that row; one
    object per source row, so a rerun finds what it made before."""

    system = models.CharField(max_length=16)  # blesta
    table = models.CharField(max_length=64)  # the source table: clients, invoices, ...
    source_id = models.CharField(max_length=128)  # its primary key, as text
    object_id = models.BigIntegerField()  # the Groupbill row's id (its kind follows the table)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "table", "source_id"], name="one_object_per_source_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system}.{self.table} {self.source_id} → {self.object_id}"


class CsvUpload(models.Model):
    """A CSV file a staff user uploaded and previewed, kept until they import it (or a day
    has passed): the import step names it by id and imports exactly what was previewed."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16)  # clients | contacts | services
    filename = models.CharField(max_length=255, blank=True, default="")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=150)  # the staff user's actor name
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} CSV {self.filename} ({self.sha256[:12]})"

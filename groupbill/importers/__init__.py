"""Importers from other billing systems (Blesta, WHMCS, CSV files). They sit at the top of the
layering, beside the API and the admin UI, because they create everything through the
domain apps' own functions; what was imported is remembered by its source id
(`ExternalId`), so a second run updates what the first created instead of duplicating it.
The database importers share their frame (`importers.frame`: the report, the source ids,
the refusal naming table, id and field, one transaction per company) and their reader."""

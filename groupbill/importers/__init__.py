"""Importers from other billing systems (Blesta). They sit at the top of the layering, beside
the API and the admin UI, because they create everything through the domain apps' own
functions; what was imported is remembered by its source id (`ExternalId`), so a second
run updates what the first created instead of duplicating it."""

"""Filtering by thousands of ids with one SQL parameter: `.filter(client_id__one_of=ids)`.

Django's `__in` prepares and binds every id on its own, a few microseconds each, which the
engine pays for every id of every batch; SQLite also caps the number of bound parameters.
`one_of` sends the whole list as one value: an array on PostgreSQL, JSON text that
SQLite's `json_each` reads as rows. Ids only: each value is checked to be an integer."""

import json

from django.db import models
from django.db.models import Lookup
from django.db.models.fields.related import ForeignObject


class OneOf(Lookup):
    lookup_name = "one_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", (*params, self.rhs)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*params, json.dumps(self.rhs))


# Foreign keys keep lookups of their own, apart from the other fields'.
models.Field.register_lookup(OneOf)
ForeignObject.register_lookup(OneOf)

"""Notes on a client's account, by staff or by automation (keyed, so a retried run never
writes the same note twice)."""

from django.db import IntegrityError, transaction

from groupbill import validation as v
from groupbill.clients.models import Client, ClientNote
from groupbill.errors import FieldError


def add_note(client: Client, text: str, *, actor: str, key: str | None = None) -> ClientNote:
    try:
        text = v.text(text, max_length=5000, required=True)
    except ValueError as exc:
        v.raise_if([FieldError("text", str(exc))])
    if key is not None:
        existing = ClientNote.objects.filter(key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return ClientNote.objects.create(client=client, text=text, actor=actor, key=key)
    except IntegrityError:
        return ClientNote.objects.get(key=key)

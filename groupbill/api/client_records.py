"""What the admin shows on a client's page besides its data: the messages written to it
(the outbox, with each one's sending status), notes on its account and its history.

Each list is oldest first and paged like every other list."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status

from groupbill.api.auth import actor
from groupbill.api.common import Id, PageQuery, StrictBody, paginate
from groupbill.api.fields import required_text
from groupbill.clients.models import ClientNote
from groupbill.clients.notes import add_note
from groupbill.clients.queries import get_client
from groupbill.notices.models import MessageStatus, OutboxMessage

router = Router(tags=["clients"])

MessageStatusValue = Literal[tuple(MessageStatus.values)]  # type: ignore[valid-type]


class RecipientOut(Schema):
    name: str
    email: str


class MessageOut(Schema):
    id: int
    client_id: int
    invoice_id: int | None
    template: str
    recipients: list[RecipientOut]
    status: str
    status_label: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


class MessageList(Schema):
    items: list[MessageOut]
    count: int


class NoteIn(StrictBody):
    text: required_text(5000)


class NoteOut(Schema):
    id: int
    client_id: int
    at: datetime
    actor: str
    text: str


class NoteList(Schema):
    items: list[NoteOut]
    count: int


class HistoryOut(Schema):
    id: int
    client_id: int
    at: datetime
    actor: str
    event: str
    message: str
    data: dict[str, Any]


class HistoryList(Schema):
    items: list[HistoryOut]
    count: int


def message_out(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "client_id": message.client_id,
        "invoice_id": message.invoice_id,
        "template": message.template,
        "recipients": [
            {"name": r.get("name") or "", "email": r.get("email") or ""}
            for r in message.recipients or []
        ],
        "status": message.status,
        "status_label": message.get_status_display(),
        "attempts": message.attempts,
        "last_error": message.last_error,
        "created_at": message.created_at,
        "sent_at": message.sent_at,
    }


def note_out(note: ClientNote) -> dict[str, Any]:
    return {f: getattr(note, f) for f in ("id", "client_id", "at", "actor", "text")}


@router.get("/clients/{client_id}/messages", response=MessageList)
def list_messages(
    request: HttpRequest,
    client_id: Id,
    page: PageQuery,
    status: MessageStatusValue | None = None,
):
    """Every message written to the client, and whether it was sent (`status`: pending,
    sending, sent, failed, unknown, or suppressed: recorded while notices were off)."""
    messages = OutboxMessage.objects.filter(client=get_client(client_id)).order_by("pk")
    if status is not None:
        messages = messages.filter(status=status)
    return paginate(messages, page, message_out)


@router.get("/clients/{client_id}/notes", response=NoteList)
def list_notes(request: HttpRequest, client_id: Id, page: PageQuery):
    notes = get_client(client_id).notes.order_by("at", "pk")
    return paginate(notes, page, note_out)


@router.post("/clients/{client_id}/notes", response={201: NoteOut})
def create_note(request: HttpRequest, client_id: Id, body: NoteIn):
    note = add_note(get_client(client_id), body.text, actor=actor(request))
    return Status(201, note_out(note))


@router.get("/clients/{client_id}/history", response=HistoryList)
def client_history(request: HttpRequest, client_id: Id, page: PageQuery):
    """What happened to the client, when and by whom (staff, an API key, the engine)."""
    history = get_client(client_id).history.order_by("at", "pk")
    return paginate(history, page, lambda e: e)

"""What every resource module shares: strict request bodies and list pagination."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from django.db.models import QuerySet
from ninja import Query, Schema
from pydantic import BeforeValidator, ConfigDict, Field

from groupbill.api.fields import integral
from groupbill.errors import NotFound, ValidationFailed
from groupbill.validation import MAX_ID

# Ids in paths and queries (parsed from text) and in JSON bodies (strict: 5, not "5").
# Out-of-range numbers are a 422, never a database overflow.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
BodyId = Annotated[int, BeforeValidator(integral), Field(ge=1, le=MAX_ID, strict=True)]


class StrictBody(Schema):
    """Request bodies refuse unknown fields, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class Page(Schema):
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_ID // 2)] = 0


PageQuery = Query[Page]


def paginate(queryset: QuerySet, page: Page, serialize: Callable[[Any], Any]) -> dict:
    count = queryset.count()
    items = [serialize(o) for o in queryset[page.offset : page.offset + page.limit]]
    return {"items": items, "count": count}


def changes(body: Schema) -> dict[str, Any]:
    """The fields a PATCH body actually sent."""
    return body.model_dump(exclude_unset=True)


T = TypeVar("T")


def referenced(get: Callable[[int], T], field: str, object_id: int) -> T:
    """An object a body names by id. Unknown is a 422 on that field (the URL exists; the
    body is wrong), where an unknown id in the path is a 404."""
    try:
        return get(object_id)
    except NotFound as exc:
        raise ValidationFailed.one(field, exc.message) from None

"""Engine runs: list, start (202, then poll), read."""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, StrictStr, WithJsonSchema

from groupbill.api.auth import actor, key_company
from groupbill.api.common import BodyId, Id, PageQuery, StrictBody, paginate
from groupbill.automation import engine
from groupbill.automation.models import EngineRun
from groupbill.clock import now
from groupbill.errors import Forbidden, NotFound

router = Router(tags=["automation"])


TASK = {"anyOf": [{"type": "string", "enum": list(engine.TASK_NAMES)}, {"type": "null"}]}


class RunIn(StrictBody):
    as_of: StrictStr | None = None  # RFC 3339 with offset, or a date; default: now
    dry_run: StrictBool = False
    company_id: BodyId | None = None
    task: Annotated[StrictStr | None, WithJsonSchema(TASK)] = None  # default: every task


class RunOut(Schema):
    id: int
    as_of: datetime
    dry_run: bool
    company_id: int | None
    task: str
    actor: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str
    result: dict[str, Any]


class RunList(Schema):
    items: list[RunOut]
    count: int


@router.get("/automation/runs", response=RunList)
def list_runs(request: HttpRequest, page: PageQuery):
    queryset = EngineRun.objects.order_by("-pk")
    if key_company(request) is not None:
        queryset = queryset.filter(company_id=key_company(request))
    return paginate(queryset, page, lambda r: r)


@router.post("/automation/runs", response={202: RunOut})
def start_run(request: HttpRequest, body: RunIn):
    """Queue a run (or a dry run) for the workers (`groupbill worker` on PostgreSQL, the
    scheduler on SQLite); poll GET /automation/runs/{id}."""
    if key_company(request) is not None and body.company_id is None:
        raise Forbidden("An API key of one company runs the engine for it: give its company_id.")
    as_of = engine.AsOf.parse(body.as_of) if body.as_of else engine.AsOf(moment=now())
    record = engine.start(
        as_of=as_of,
        actor=actor(request),
        company_id=body.company_id,
        task=body.task,
        dry_run=body.dry_run,
    )  # TimeTravelRefused is a 422 on as_of, like every ValidationFailed
    engine.enqueue(record)
    return Status(202, record)


@router.get("/automation/runs/{run_id}", response=RunOut)
def read_run(request: HttpRequest, run_id: Id):
    run = EngineRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"Engine run {run_id} does not exist.")
    return run

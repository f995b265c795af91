"""Engine runs: list, start (202, then poll), read."""

import contextlib
import threading
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool, StrictStr

from groupbill.api.auth import actor
from groupbill.api.common import BodyId, Id, PageQuery, StrictBody, paginate
from groupbill.automation import engine
from groupbill.automation.models import EngineRun
from groupbill.clock import now
from groupbill.errors import NotFound, ValidationFailed

router = Router(tags=["automation"])


class RunIn(StrictBody):
    as_of: StrictStr | None = None  # RFC 3339 with offset, or a date; default: now
    dry_run: StrictBool = False
    company_id: BodyId | None = None
    task: StrictStr | None = None


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


def _carry_out(run_id: int, as_of: engine.AsOf) -> None:
    # A busy lock or an error is recorded on the run itself; nobody else to tell here.
    with contextlib.suppress(Exception):
        engine.run(EngineRun.objects.get(pk=run_id), as_of)
    connection.close()


@router.get("/automation/runs", response=RunList)
def list_runs(request: HttpRequest, page: PageQuery):
    return paginate(EngineRun.objects.order_by("-pk"), page, lambda r: r)


@router.post("/automation/runs", response={202: RunOut})
def start_run(request: HttpRequest, body: RunIn):
    """Start a run (or a dry run) in the background; poll GET /automation/runs/{id}."""
    as_of = engine.AsOf.parse(body.as_of) if body.as_of else engine.AsOf(moment=now())
    try:
        record = engine.start(
            as_of=as_of,
            actor=actor(request),
            company_id=body.company_id,
            task=body.task,
            dry_run=body.dry_run,
        )
    except engine.TimeTravelRefused as exc:
        raise ValidationFailed.one("as_of", str(exc)) from None
    # After the request's transaction commits, so the worker sees the run row.
    transaction.on_commit(
        lambda: threading.Thread(target=_carry_out, args=(record.pk, as_of), daemon=True).start()
    )
    return Status(202, record)


@router.get("/automation/runs/{run_id}", response=RunOut)
def read_run(request: HttpRequest, run_id: Id):
    run = EngineRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"Engine run {run_id} does not exist.")
    return run

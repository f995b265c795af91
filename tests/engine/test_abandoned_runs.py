"""Run bookkeeping with real processes: a run killed with SIGKILL is shown abandoned and
the next run goes ahead at once (there is no lock to wait for)."""

import time

import pytest
from django.test import Client as HttpClient

from groupbill.automation.models import EngineRun
from groupbill.billing.models import SandboxCharge
from tests import processes
from tests.engine.test_workers import _slowly_charged_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_killed_run_is_abandoned_and_the_next_goes_ahead_at_once(
    company, make_client, staff_user
):
    _slowly_charged_client(company, make_client)
    first = processes.groupbill("run", "--as-of", "2026-03-02", GROUPBILL_SANDBOX_SLOW_SECONDS="60")
    slow = SandboxCharge.objects.filter(account_reference="tok_slow_0505")
    processes.wait_until(slow.exists, 60, "the slow card to be charged")
    processes.kill(first)
    first.stdout.close()
    first.stderr.close()

    started = time.monotonic()
    code, doc, err = processes.run_engine("2026-03-03", GROUPBILL_EFFECT_GRACE_SECONDS="0")
    assert code in (0, 1), err
    assert time.monotonic() - started < 30  # no waiting on the dead run
    killed, second = EngineRun.objects.order_by("pk")
    assert (killed.status, second.status) == ("abandoned", "done")
    assert "its process stopped" in killed.error
    settle = next(t for t in doc["tasks"] if t["name"] == "settle_pending")
    assert settle["applied"] == 1  # the dead run's charge, booked from the gateway's record
    staff = HttpClient()
    staff.force_login(staff_user)
    page = staff.get("/automation/").content.decode()
    assert "Abandoned (its process died)" in page

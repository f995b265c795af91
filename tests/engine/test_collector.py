"""The cycle collector is paused while a shard works, and running again after it,
whatever happened in the shard."""

import gc
from types import SimpleNamespace

import pytest

from groupbill.automation import collector
from groupbill.automation.engine import AsOf, execute
from groupbill.clients.models import Contact


def test_a_shard_works_with_the_collector_paused_and_it_runs_again_after(company, make_client):
    make_client()
    seen = []
    task = SimpleNamespace(
        NAME="probe",
        due=lambda view: [Contact.objects.filter(client__company=view.company).values("client_id")],
        plan=lambda view: seen.append(gc.isenabled()) or [],
    )
    execute(AsOf(day=company.created_at.date()), companies=[company], tasks=[task])
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_runs_again_after_a_failure_and_stays_paused_while_nested():
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("a shard stopped")
    assert gc.isenabled()
    with collector.paused():
        with collector.paused():
            pass
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()

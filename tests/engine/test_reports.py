"""A run's report keeps complete counts and a bounded sample of its actions, failures
first: what the Automation page and `groupbill run` show of a run over a large book."""

from groupbill.automation.plan import Action
from groupbill.automation.reports import MAX_ACTIONS_KEPT, TaskReport


def _action(n: int) -> Action:
    return Action(f"renew:{n}", f"Invoice client #{n}", lambda: True, client_id=n)


def test_counts_stay_complete_and_the_sample_bounded_with_failures_kept():
    report = TaskReport("renewal_invoices")
    for n in range(MAX_ACTIONS_KEPT + 100):
        report.record(_action(n), "applied", {"invoice": f"#{n}"})
    report.record(_action(-1), "failed", error="card declined")

    doc = report.as_json()
    assert (doc["applied"], doc["failed"]) == (MAX_ACTIONS_KEPT + 100, 1)
    assert len(doc["actions"]) == MAX_ACTIONS_KEPT
    assert doc["actions_omitted"] == 101
    assert doc["actions"][0] == {"key": "renew:0", "summary": "Invoice client #0",
                                 "client_id": 0, "outcome": "applied", "invoice": "#0"}  # fmt: skip
    assert doc["actions"][-1]["error"] == "card declined"  # in place of an applied one

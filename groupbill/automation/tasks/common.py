from groupbill.automation.view import CompanyView
from groupbill.clients.models import Client

ENGINE = "engine"


def client_groups(view: CompanyView) -> dict[int, int]:
    """client id -> group id for the company: one query."""
    return dict(Client.objects.filter(company=view.company).values_list("pk", "group_id"))

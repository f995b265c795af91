from ninja import NinjaAPI

from groupbill.api import client_groups, clients, companies, problems, settings
from groupbill.api.auth import BearerKey

api = NinjaAPI(
    title="Groupbill API",
    version="1",
    description="Client groups, their settings, clients and billing. "
    "Authenticate with `Authorization: Bearer <key>` (create a key with "
    "`groupbill apikey create --name NAME`).",
    auth=BearerKey(),
    urls_namespace="api",
)
problems.install(api)
for module in (companies, client_groups, clients, settings):
    api.add_router("", module.router)

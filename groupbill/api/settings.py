"""Settings at each level: effective values with their source, overrides, inherit again."""

from django.http import HttpRequest
from ninja import Router, Status

from groupbill.api.auth import actor
from groupbill.api.common import Id, changes
from groupbill.api.settings_schemas import (
    ClientSettingsOut,
    CompanySettingsOut,
    CompanySettingsPatch,
    GroupSettingsOut,
    SettingsDocumentOut,
    SettingsImportIn,
    SettingsImportOut,
    SettingValueIn,
    serialize,
)
from groupbill.clients.queries import get_client, get_group
from groupbill.companies.queries import get_company
from groupbill.settings_catalog import actions, transfer
from groupbill.settings_catalog.resolver import resolve_client, resolve_company, resolve_group

router = Router(tags=["settings"])


@router.get("/companies/{company_id}/settings", response=CompanySettingsOut)
def company_settings(request: HttpRequest, company_id: Id):
    return serialize(resolve_company(get_company(company_id).pk))


@router.patch("/companies/{company_id}/settings", response=CompanySettingsOut)
def patch_company_settings(request: HttpRequest, company_id: Id, body: CompanySettingsPatch):
    company = get_company(company_id)
    actions.set_company_settings(company, changes(body), actor=actor(request))
    return serialize(resolve_company(company.pk))


# Before .../settings/{key}: the first route whose path matches takes the request.
@router.get("/companies/{company_id}/settings/export", response=SettingsDocumentOut)
def export_settings(request: HttpRequest, company_id: Id):
    """The company's explicit values and each group's overrides, as a versioned document
    that POST .../settings/import takes back (here or in another company)."""
    return transfer.export(get_company(company_id))


@router.post("/companies/{company_id}/settings/import", response=SettingsImportOut)
def import_settings(request: HttpRequest, company_id: Id, body: SettingsImportIn):
    """Plan an import, per level and key (`dry_run`, the default, writes nothing), or write
    it (`dry_run: false`): all or nothing, a refused value is a 422 naming its place in the
    document. Groups the company lacks are created; groups the document does not name are
    left as they are."""
    company = get_company(company_id)
    plan = transfer.plan_import(company, body.document, dialect=body.dialect)
    if not body.dry_run:
        transfer.apply_import(company, plan, actor=actor(request))
    return {**plan.as_dict(), "dry_run": body.dry_run, "applied": not body.dry_run}


@router.delete("/companies/{company_id}/settings/{key}", response={204: None})
def reset_company_setting(request: HttpRequest, company_id: Id, key: str):
    actions.reset_company_setting(get_company(company_id), key, actor=actor(request))
    return Status(204, None)


@router.get("/client-groups/{group_id}/settings", response=GroupSettingsOut)
def group_settings(request: HttpRequest, group_id: Id):
    return serialize(resolve_group(get_group(group_id).pk))


@router.delete("/client-groups/{group_id}/settings", response={204: None})
def clear_group_settings(request: HttpRequest, group_id: Id):
    actions.clear_group_settings(get_group(group_id), actor=actor(request))
    return Status(204, None)


@router.put("/client-groups/{group_id}/settings/{key}", response=GroupSettingsOut)
def override_group_setting(request: HttpRequest, group_id: Id, key: str, body: SettingValueIn):
    group = get_group(group_id)
    actions.set_group_setting(group, key, body.value, actor=actor(request))
    return serialize(resolve_group(group.pk))


@router.delete("/client-groups/{group_id}/settings/{key}", response={204: None})
def inherit_group_setting(request: HttpRequest, group_id: Id, key: str):
    actions.unset_group_setting(get_group(group_id), key, actor=actor(request))
    return Status(204, None)


@router.get("/clients/{client_id}/settings", response=ClientSettingsOut)
def client_settings(request: HttpRequest, client_id: Id):
    return serialize(resolve_client(get_client(client_id).pk))


@router.put("/clients/{client_id}/settings/{key}", response=ClientSettingsOut)
def override_client_setting(request: HttpRequest, client_id: Id, key: str, body: SettingValueIn):
    client = get_client(client_id)
    actions.set_client_setting(client, key, body.value, actor=actor(request))
    return serialize(resolve_client(client.pk))


@router.delete("/clients/{client_id}/settings/{key}", response={204: None})
def inherit_client_setting(request: HttpRequest, client_id: Id, key: str):
    actions.unset_client_setting(get_client(client_id), key, actor=actor(request))
    return Status(204, None)

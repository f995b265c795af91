"""API keys are made and revoked in the companies app (groupbill.companies.api_keys), where
the staff pages reach them too; imported here for the API's command and tests."""

from groupbill.companies.api_keys import create_api_key, revoke_api_key

__all__ = ["create_api_key", "revoke_api_key"]

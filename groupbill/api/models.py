from django.db import models

# API keys are the companies app's (where the staff pages reach them too); their table is
# still this app's `api_apikey`. Imported here for the API's modules.
from groupbill.companies.api_keys import KEY_PREFIX, hash_key, new_raw_key
from groupbill.companies.models import ApiKey

__all__ = ["KEY_PREFIX", "ApiKey", "KeyFailure", "hash_key", "new_raw_key"]


class KeyFailure(models.Model):
    """A request with an API key that names no key: counted per address, so guessing keys
    is answered 429 (groupbill.api.auth)."""

    at = models.DateTimeField(db_index=True)
    address = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["address", "at"])]

    def __str__(self) -> str:
        return f"{self.address} at {self.at:%Y-%m-%d %H:%M:%S}"

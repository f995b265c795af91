import pytest


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """Portal sign-ins hash passwords; the default hasher's cost is not what is tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

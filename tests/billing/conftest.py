import pytest


@pytest.fixture
def payer(make_client):
    """A client paying through a gateway (Ada, in the default group)."""
    return make_client()

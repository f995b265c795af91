"""Staff sign-in limits: guessing passwords is paused."""

from django.test import Client as HttpClient

from tests.conftest import sign_in


def test_staff_sign_in_pauses_after_five_failures(staff_user):
    http = HttpClient()
    for _ in range(5):
        assert not sign_in(http, "staff", "wrong")
    response = http.post("/login/", {"username": "staff", "password": "correct horse"})
    assert response.status_code == 429
    assert "Signing in is paused" in response.content.decode()

"""Safe deployment defaults: the version, the secret key another host needs, a clean
`check --deploy` when configured, and a content security policy on pages."""

from tests import processes


def test_version_is_groupbills():
    done = processes.run_cli("--version")
    assert done.stdout.strip().startswith("groupbill ") and done.returncode == 0


def test_serving_other_hosts_needs_a_secret_key_of_its_own():
    refused = processes.run_cli("check", GROUPBILL_ALLOWED_HOSTS="billing.example.com")
    assert refused.returncode != 0
    assert "Set GROUPBILL_SECRET_KEY" in refused.stderr
    short = processes.run_cli("check", GROUPBILL_SECRET_KEY="too-short")
    assert "at least 50 random characters" in short.stderr


def test_check_deploy_is_clean_when_configured():
    done = processes.run_cli(
        "check", "--deploy", "--fail-level", "WARNING",
        GROUPBILL_ALLOWED_HOSTS="billing.example.com",
        GROUPBILL_SECRET_KEY="k" * 30 + "0123456789abcdefghijklmnopqrst",
        GROUPBILL_SECURE_COOKIES="1", GROUPBILL_SSL_REDIRECT="1",
        GROUPBILL_HSTS_SECONDS="31536000", GROUPBILL_HSTS_SUBDOMAINS="1",
        GROUPBILL_HSTS_PRELOAD="1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout


def test_pages_carry_a_content_security_policy(client, db):
    policy = client.get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "Content-Security-Policy" not in client.get("/api/v1/docs")  # Swagger UI's CDN

"""Django settings. Everything that differs between machines comes from the environment."""

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("GROUPBILL_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("GROUPBILL_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver", "::1", "[::1]"}
DATA_DIR = Path(os.environ.get("GROUPBILL_DATA_DIR", BASE_DIR / "data"))


def _secret_key() -> str:
    """GROUPBILL_SECRET_KEY; for local use (only local hosts allowed) a random key made
    once and kept in the data directory. There is no built-in key: a deployment that
    serves other hosts without a key of its own refuses to start."""
    key = os.environ.get("GROUPBILL_SECRET_KEY", "")
    if key:
        if len(key) < 50 or len(set(key)) < 5:
            raise ImproperlyConfigured(
                "GROUPBILL_SECRET_KEY must be at least 50 random characters; make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )
        return key
    if not set(ALLOWED_HOSTS) <= LOCAL_HOSTS:
        raise ImproperlyConfigured(
            "Set GROUPBILL_SECRET_KEY (50+ random characters) to serve "
            f"{', '.join(sorted(set(ALLOWED_HOSTS) - LOCAL_HOSTS))}."
        )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(handle, "w") as out:
        out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("GROUPBILL_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# HTTPS: behind a proxy that terminates TLS, GROUPBILL_PROXY_SSL_HEADER names the header it
# sets (e.g. HTTP_X_FORWARDED_PROTO, with "https"); the rest are off for local use.
if os.environ.get("GROUPBILL_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (os.environ["GROUPBILL_PROXY_SSL_HEADER"], "https")
SECURE_SSL_REDIRECT = _env_bool("GROUPBILL_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_bool("GROUPBILL_SECURE_COOKIES", False)
SECURE_HSTS_SECONDS = int(os.environ.get("GROUPBILL_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("GROUPBILL_HSTS_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("GROUPBILL_HSTS_PRELOAD", False)
CONTENT_SECURITY_POLICY = os.environ.get(
    "GROUPBILL_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    # The engine's job queue on PostgreSQL (groupbill worker); its tables are created on
    # PostgreSQL only (groupbill.db_routers).
    "procrastinate.contrib.django",
    "groupbill.audit",
    "groupbill.companies",
    "groupbill.settings_catalog",
    "groupbill.clients",
    "groupbill.catalog",
    "groupbill.services",
    "groupbill.billing",
    "groupbill.notices",
    "groupbill.automation",
    "groupbill.portal",
    "groupbill.api",
    "groupbill.web",
    "groupbill.importers",
    "axes",  # staff sign-in limits
    # Staff two-factor sign-in: TOTP devices and recovery codes (groupbill.web.two_factor).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "groupbill.middleware.ContentSecurityPolicy",
    "groupbill.api.guard.BodyGuard",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it counts the failed staff sign-ins the views above let through.
    "axes.middleware.AxesMiddleware",
]
OTP_TOTP_ISSUER = "Groupbill"

ROOT_URLCONF = "groupbill.urls"
WSGI_APPLICATION = "groupbill.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# WAL + IMMEDIATE transactions + a busy timeout let the web server, the scheduler and a
# CLI run share one SQLite file without "database is locked" on write upgrades.
_SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Persistent connections are opt-in: a kept-open connection in a server thread
        # would, for one, block dropping the test database.
        max_age = int(os.environ.get("GROUPBILL_DB_CONN_MAX_AGE", "0"))
        database = dj_database_url.parse(url, conn_max_age=max_age)
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "groupbill.sqlite3"}
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["OPTIONS"] = {**_SQLITE_OPTIONS, **database.get("OPTIONS", {})}
        # Tests that start real processes (a served instance, a killed engine run) need a
        # test database other processes can open: a file, not memory.
        database["TEST"] = {
            "NAME": os.environ.get("GROUPBILL_TEST_DATABASE")
            or str(Path(tempfile.gettempdir()) / f"groupbill-test-{os.getpid()}.sqlite3")
        }
    return database


DATABASES = {"default": _database()}

# The API takes JSON bodies up to this size (413 beyond); forms are far smaller.
API_MAX_BODY_BYTES = int(os.environ.get("GROUPBILL_API_MAX_BODY_BYTES", str(1024 * 1024)))
# Requests with a key that names no API key, per address in ten minutes, before a 429.
API_KEY_FAILURE_LIMIT = int(os.environ.get("GROUPBILL_API_KEY_FAILURE_LIMIT", "20"))
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
DATABASE_ROUTERS = ["groupbill.db_routers.ProcrastinateOnPostgreSQLOnly"]

# Runs and their shards go to procrastinate jobs on PostgreSQL, for `groupbill worker`
# processes on any number of machines; 0 keeps them in the process that starts a run.
PROCRASTINATE_ENABLED = _env_bool("GROUPBILL_WORKERS", True)
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "jobs"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# WhiteNoise serves static files straight from the apps (no collectstatic step for a local
# run); a deployment may still collect them into GROUPBILL_STATIC_ROOT.
STATIC_ROOT = os.environ.get("GROUPBILL_STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True

# Email: the outbox sender (`groupbill deliver`) sends over SMTP when a server is configured;
# otherwise (local use) it prints one line per message ("summary"); "console" prints whole
# messages.
_EMAIL_BACKENDS = {
    "summary": "groupbill.notices.mail_backends.SummaryEmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = os.environ.get(
    "GROUPBILL_EMAIL_BACKEND", "smtp" if os.environ.get("GROUPBILL_SMTP_HOST") else "summary"
)
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_email_backend, _email_backend)
EMAIL_HOST = os.environ.get("GROUPBILL_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("GROUPBILL_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("GROUPBILL_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GROUPBILL_SMTP_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("GROUPBILL_SMTP_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("GROUPBILL_FROM_EMAIL", "billing@localhost")

# How long a gateway charge or a module call may still be in flight. An attempt pending
# longer (its process died, or the answer was lost) is settled by asking for its outcome.
# Previews (dry runs) run this many clients per rolled-back transaction: a writer to one
# of them waits for that batch's preview at most (engine.previewed).
PREVIEW_BATCH_CLIENTS = max(1, int(os.environ.get("GROUPBILL_PREVIEW_BATCH_CLIENTS", "100")))
EFFECT_GRACE_SECONDS = int(os.environ.get("GROUPBILL_EFFECT_GRACE_SECONDS", "120"))

# Stripe (groupbill.billing.gateways.stripe): the `stripe` gateway exists only when a secret
# key is set. Keys live here, read from the environment, never in the database.
STRIPE_SECRET_KEY = os.environ.get("GROUPBILL_STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("GROUPBILL_STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("GROUPBILL_STRIPE_WEBHOOK_SECRET", "")
# Another API server (tests: localstripe's address) and its Stripe.js stand-in.
STRIPE_API_BASE = os.environ.get("GROUPBILL_STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_JS_URL = os.environ.get("GROUPBILL_STRIPE_JS_URL", "https://js.stripe.com/v3/")

# Staff sign-in: at most 5 failures per 15 minutes per user name and per address, then
# 429 until they age out (django-axes); a right password clears the user name's count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "groupbill.addresses.client_address"
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False

LOGIN_URL = "web:login"
# Absolute base of links in portal emails (e.g. https://billing.example.com); empty: the
# address the request came to.
PORTAL_BASE_URL = os.environ.get("GROUPBILL_PORTAL_URL", "").rstrip("/")
# Ask VIES, the EU's VAT register, whether a VAT ID is registered when one is saved. Off by
# default; an unreachable VIES never blocks a save.
VIES_CHECK = os.environ.get("GROUPBILL_VIES_CHECK", "0") == "1"
# Behind a reverse proxy every request comes from the proxy's address; name the request
# header (as in request.META, e.g. HTTP_X_REAL_IP) that the proxy sets to the client's
# address, so portal sign-in limits count per real address. Empty: REMOTE_ADDR.
CLIENT_ADDRESS_HEADER = os.environ.get("GROUPBILL_CLIENT_ADDRESS_HEADER", "")
# Password links work this long: Django reads it for every reset token, but only the
# portal sends any (staff have no reset links).
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GROUPBILL_LOG_LEVEL", "WARNING")},
}

"""Django settings. Everything that differs between machines comes from the environment."""

import os
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("GROUPBILL_DEBUG", False)
# A fixed key is only acceptable for local use; production sets GROUPBILL_SECRET_KEY.
SECRET_KEY = os.environ.get("GROUPBILL_SECRET_KEY", "groupbill-local-development-only-key")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("GROUPBILL_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("GROUPBILL_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

DATA_DIR = Path(os.environ.get("GROUPBILL_DATA_DIR", BASE_DIR / "data"))

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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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

# Email: the outbox sender (`groupbill deliver`) prints to the console unless told to use SMTP.
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = os.environ.get("GROUPBILL_EMAIL_BACKEND", "console")
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_email_backend, _email_backend)
EMAIL_HOST = os.environ.get("GROUPBILL_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("GROUPBILL_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("GROUPBILL_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GROUPBILL_SMTP_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("GROUPBILL_SMTP_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("GROUPBILL_FROM_EMAIL", "billing@localhost")

# How long a gateway charge or a module call may still be in flight. An attempt pending
# longer (its process died, or the answer was lost) is settled by asking for its outcome.
EFFECT_GRACE_SECONDS = int(os.environ.get("GROUPBILL_EFFECT_GRACE_SECONDS", "120"))

LOGIN_URL = "web:login"
# Absolute base of links in portal emails (e.g. https://billing.example.com); empty: the
# address the request came to.
PORTAL_BASE_URL = os.environ.get("GROUPBILL_PORTAL_URL", "").rstrip("/")
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

"""Pages that load Stripe.js (the card form, 3-D Secure): the origins their
Content-Security-Policy must allow, and only on those pages."""

from urllib.parse import urlsplit

from groupbill.middleware import allow

STRIPE_JS = "https://js.stripe.com"


def sources(js_url: str) -> dict[str, list[str]]:
    """Stripe's documented sources for js.stripe.com; for another server (a test
    stand-in) its origin, which serves the script, its frames and its API."""
    parts = urlsplit(js_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin == STRIPE_JS:
        return {
            "script-src": [STRIPE_JS],
            "frame-src": [STRIPE_JS, "https://hooks.stripe.com"],
            "connect-src": ["https://api.stripe.com"],
        }
    return {"script-src": [origin], "frame-src": [origin], "connect-src": [origin]}


def allowing_stripe(response, js_url: str):
    """The response, with its page allowed to use Stripe.js from `js_url`; never cached
    (it holds a client secret)."""
    response.headers["Cache-Control"] = "no-store"
    return allow(response, sources(js_url))

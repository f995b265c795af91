"""Response headers every page gets: a Content-Security-Policy (no inline scripts, no
other origins; GROUPBILL_CSP replaces it, an empty value turns it off). The API's
interactive docs load Swagger UI from its CDN, so they go without. A page that loads
another origin's script (the portal's Stripe card form) names its sources with `allow`:
they are added to that page's policy only."""

from django.conf import settings

DOCS_PATH = "/api/v1/docs"


def allow(response, sources: dict[str, list[str]]):
    """Let this response's page use these sources too ({"script-src": [origin], ...})."""
    extra = getattr(response, "csp_allow", {})
    for directive, values in sources.items():
        extra.setdefault(directive, [])
        extra[directive] += [v for v in values if v not in extra[directive]]
    response.csp_allow = extra
    return response


def with_sources(policy: str, sources: dict[str, list[str]]) -> str:
    """The policy with these sources added to their directives; a directive the policy does
    not name starts from its default-src (what the browser used for it)."""
    directives = [d.split() for d in policy.split(";") if d.strip()]
    by_name = {d[0].lower(): d for d in directives}
    default = [v for v in by_name.get("default-src", [])[1:] if v != "'none'"]
    for name, values in sources.items():
        directive = by_name.get(name)
        if directive is None:
            directive = by_name[name] = [name, *default]
            directives.append(directive)
        if "'none'" in directive:
            directive.remove("'none'")
        directive += [v for v in values if v not in directive]
    return "; ".join(" ".join(d) for d in directives)


class ContentSecurityPolicy:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and not request.path.startswith(DOCS_PATH):
            extra = getattr(response, "csp_allow", None)
            if extra:
                policy = with_sources(policy, extra)
            response.headers.setdefault("Content-Security-Policy", policy)
        return response

"""Response headers every page gets: a Content-Security-Policy (no inline scripts, no
other origins; GROUPBILL_CSP replaces it, an empty value turns it off). The API's
interactive docs load Swagger UI from its CDN, so they go without."""

from django.conf import settings

DOCS_PATH = "/api/v1/docs"


class ContentSecurityPolicy:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and not request.path.startswith(DOCS_PATH):
            response.headers.setdefault("Content-Security-Policy", policy)
        return response

from django.urls import include, path

from groupbill.api.gateway_webhooks import stripe_webhook
from groupbill.api.router import api

urlpatterns = [
    # Signed by Stripe, not called with an API key: ahead of the API's own routes.
    path("api/v1/gateways/stripe/webhook", stripe_webhook, name="stripe-webhook"),
    path("api/v1/", api.urls),
    path("portal/", include("groupbill.portal.urls")),
    path("", include("groupbill.web.urls")),
]

from django.urls import include, path

from groupbill.api.router import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("portal/", include("groupbill.portal.urls")),
    path("", include("groupbill.web.urls")),
]

from django.contrib.auth import views as auth_views
from django.urls import path

from groupbill.web.views import audit, clients, companies, groups, home, packages

app_name = "web"
urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("companies/", companies.company_list, name="company_list"),
    path("companies/<int:company_id>/", companies.company_edit, name="company_edit"),
    path("companies/<int:company_id>/settings/", companies.company_settings,
         name="company_settings"),
    path("companies/<int:company_id>/client-groups/", groups.group_list, name="group_list"),
    path("companies/<int:company_id>/client-groups/add/", groups.group_add, name="group_add"),
    path("companies/<int:company_id>/clients/add/", clients.client_add, name="client_add"),
    path("client-groups/<int:group_id>/", groups.group_edit, name="group_edit"),
    path("client-groups/<int:group_id>/reset/", groups.group_reset, name="group_reset"),
    path("client-groups/<int:group_id>/delete/", groups.group_delete, name="group_delete"),
    path("clients/", clients.client_list, name="client_list"),
    path("clients/<int:client_id>/", clients.client_detail, name="client_detail"),
    path("clients/<int:client_id>/edit/", clients.client_edit, name="client_edit"),
    path("clients/<int:client_id>/delete/", clients.client_delete, name="client_delete"),
    path("clients/<int:client_id>/contacts/add/", clients.contact_add, name="contact_add"),
    path("contacts/<int:contact_id>/edit/", clients.contact_edit, name="contact_edit"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("companies/<int:company_id>/packages/", packages.package_list, name="package_list"),
    path("companies/<int:company_id>/packages/add/", packages.package_add, name="package_add"),
    path("packages/<int:package_id>/", packages.package_edit, name="package_edit"),
    path("packages/<int:package_id>/deactivate/", packages.package_deactivate,
         name="package_deactivate"),
    path("packages/<int:package_id>/activate/", packages.package_activate,
         name="package_activate"),
    path("packages/<int:package_id>/options/add/", packages.option_add, name="option_add"),
    path("package-options/<int:option_id>/", packages.option_edit, name="option_edit"),
    path("package-options/<int:option_id>/delete/", packages.option_delete, name="option_delete"),
]  # fmt: skip

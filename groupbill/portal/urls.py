from django.urls import path

from groupbill.portal.views import (
    auth,
    dashboard,
    invoices,
    payments,
    people,
    services,
    wallet,
)

app_name = "portal"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("password-reset/", auth.reset_request, name="reset_request"),
    path("password-reset/<str:uid>/<str:token>/", auth.reset_confirm, name="reset_confirm"),
    path("services/", services.service_list, name="service_list"),
    path("services/<int:service_id>/", services.service_detail, name="service_detail"),
    path("services/<int:service_id>/cancel/", services.service_cancel, name="service_cancel"),
    path("services/<int:service_id>/change-term/", services.service_change_term,
         name="service_change_term"),
    path("services/<int:service_id>/change-package/", services.service_change_package,
         name="service_change_package"),
    path("services/<int:service_id>/addons/order/", services.service_order_addon,
         name="service_order_addon"),
    path("invoices/", invoices.invoice_list, name="invoice_list"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail, name="invoice_detail"),
    path("invoices/<int:invoice_id>/pdf/", invoices.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/pay/", invoices.invoice_pay, name="invoice_pay"),
    path("payment-methods/", wallet.account_list, name="account_list"),
    path("payment-methods/add/", wallet.account_add, name="account_add"),
    path("payment-methods/add/stripe/", wallet.account_add_stripe, name="account_add_stripe"),
    path("payments/<int:attempt_id>/authenticate/", payments.payment_authenticate,
         name="payment_authenticate"),
    path("payment-methods/<int:account_id>/autodebit/", wallet.account_autodebit,
         name="account_autodebit"),
    path("contacts/", people.contact_list, name="contact_list"),
    path("contacts/add/", people.contact_add, name="contact_add"),
    path("contacts/<int:contact_id>/", people.contact_edit, name="contact_edit"),
    path("profile/", people.profile, name="profile"),
]  # fmt: skip

from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "groupbill.companies"
    label = "companies"

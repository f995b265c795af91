import importlib

from groupbill.companies.models import Company, StaffMembership
from groupbill.demo import DEMO_USERNAME, ensure_staff_user, load_demo


def test_the_demo_staff_user_is_an_owner_of_every_company(db):
    load_demo()
    assert ensure_staff_user()
    assert ensure_staff_user()  # again: no second membership
    mine = StaffMembership.objects.filter(user__username=DEMO_USERNAME)
    assert set(mine.values_list("role", flat=True)) == {"owner"}
    assert sorted(mine.values_list("company_id", flat=True)) == sorted(
        Company.objects.values_list("pk", flat=True)
    )


def test_the_migration_makes_the_staff_there_are_owners_of_every_company(
    company, django_user_model
):
    from django.apps import apps

    migration = importlib.import_module("groupbill.companies.migrations.0004_staff_roles")
    second = Company.objects.create(name="Second")
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    django_user_model.objects.create_user("someone", password="pw")  # not staff: no role
    StaffMembership.objects.create(user=clerk, company=second, role="support")
    migration.owners_of_every_company(apps, None)
    roles = set(StaffMembership.objects.values_list("user__username", "company__name", "role"))
    # An existing membership is kept as it was (the migration runs once, before any).
    assert roles == {("clerk", "Acme Hosting", "owner"), ("clerk", "Second", "support")}

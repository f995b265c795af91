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

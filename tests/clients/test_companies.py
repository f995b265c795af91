def test_company_gets_a_default_group(api):
    r = api.post("/companies", {"name": "Acme", "timezone": "UTC", "default_currency": "USD"})
    assert r.status_code == 201
    groups = api.get(f"/companies/{r.json()['id']}/client-groups").json()
    assert [(g["name"], g["is_default"]) for g in groups["items"]] == [("General", True)]

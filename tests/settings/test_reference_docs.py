from pathlib import Path

from groupbill.settings_catalog.catalog import CATALOG
from groupbill.settings_catalog.docs import settings_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_settings_reference_is_generated_from_the_catalogue():
    text = DOCS.read_text()
    assert text.strip() == settings_reference().strip(), (
        "docs/settings.md is stale: run `groupbill settings-docs > docs/settings.md`"
    )
    for key in CATALOG:
        assert f"`{key}`" in text

"""The settings reference (docs/settings.md), generated from the catalogue."""

import json

from groupbill.settings_catalog.catalog import by_section


def settings_reference() -> str:
    lines = [
        "# Client-group settings reference",
        "",
        "Generated from `groupbill/settings_catalog/catalog.py` by `groupbill settings-docs`;",
        "do not edit by hand. Each key inherits individually: built-in default, company,",
        'client group, and client for keys marked "client". "Blesta" is the key\'s name in',
        "Blesta, which `groupbill settings-import --dialect blesta` reads.",
        "",
    ]
    for section, settings in by_section():
        lines += [f"## {section}", "",
                  "| key | label | values | default | client | meaning | Blesta |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for s in settings:
            lines.append(
                f"| `{s.key}` | {s.label} | {s.type.describe()} | `{json.dumps(s.default)}` "
                f"| {'yes' if s.client else ''} | {s.help} | `{s.legacy_key}` |"
            )
        lines.append("")
    return "\n".join(lines)

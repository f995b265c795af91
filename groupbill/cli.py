"""The `groupbill` console command: Django's management commands under one name."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groupbill.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["groupbill", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()

"""The `groupbill` console command: Django's management commands under one name."""

import os
import sys
from importlib.metadata import version


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["version"]):
        print(f"groupbill {version('groupbill')}")  # Django's own --version names Django's
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groupbill.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["groupbill", *args])


if __name__ == "__main__":
    main()

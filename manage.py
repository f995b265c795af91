#!/usr/bin/env python
from groupbill.cli import main

if __name__ == "__main__":
    main()

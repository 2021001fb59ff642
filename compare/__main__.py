"""``python -m compare``: see ``compare.cli``."""

from compare.cli import main

raise SystemExit(main())

"""Allow ``python -m infusion_desk``."""

from infusion_desk.cli import main

raise SystemExit(main())

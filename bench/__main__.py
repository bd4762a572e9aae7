"""Run every benchmark and rewrite ``bench/RESULTS.md`` (``make bench``)."""

from bench.run import main

raise SystemExit(main())

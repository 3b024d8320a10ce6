"""`python -m leerbot` runs the same command line as the `leerbot` script."""

from leerbot.cli import main

raise SystemExit(main())

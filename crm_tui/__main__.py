"""`python -m crm_tui` runs the same program as `crm`."""

from crm_tui.cli import main

main()

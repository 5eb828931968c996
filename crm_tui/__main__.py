"""`python -m crm_tui` runs the same program as `crm`."""

from crm_tui.cli import main

# Guarded: an import's cleaning process (a fresh interpreter) imports this module again.
if __name__ == "__main__":
    main()

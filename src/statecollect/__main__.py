"""``python -m statecollect`` runs the command line."""

from statecollect.cli import main

main()

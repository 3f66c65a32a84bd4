"""``python -m statecollect`` runs the command line."""

from statecollect.launch import run

run()

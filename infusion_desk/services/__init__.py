"""Use cases the GUI and the CLI call: each is one transaction and checks the user's role."""

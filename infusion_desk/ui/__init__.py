"""The PySide6 desktop interface: sign-in, the role workspaces and the dialogs around them.

Everything here only displays what ``infusion_desk.services`` returns; database work runs on
the background worker in :mod:`infusion_desk.ui.tasks` so the GUI thread only paints.
"""

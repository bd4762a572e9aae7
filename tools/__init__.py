"""Developer tools: scripts that regenerate the reference data in resources/."""

"""Reference data shipped with the app: drug catalog, code tables, letter templates (data, not code)."""

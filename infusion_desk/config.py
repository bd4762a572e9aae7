"""Names the whole application agrees on, importable without loading the data layer."""

DATABASE_URL_ENV = "INFUSION_DESK_DATABASE_URL"

"""Web Config pages, one module per page or area; each exposes ``routes(wc)``."""

"""The web UI: the second mount beside ``http/``, server-rendered pages made interactive
with htmx, calling the same domain functions as the API (docs/ui.md)."""

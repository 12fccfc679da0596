"""Command-line tools: ``python -m cli.notify`` is the notify API's client."""

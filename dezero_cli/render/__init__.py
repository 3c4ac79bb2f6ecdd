"""Every rendering of results as text and JSON, one module per kind of result. Each command
builds its data through the API, then one function per format renders it."""

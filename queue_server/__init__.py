"""The central queue server: engine, store, config, REST API and live push."""
__version__ = "0.1.0"

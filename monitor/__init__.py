"""Monitor of Polish news for Ukraine–Russia peace-talk stories."""

__version__ = "0.1.0"

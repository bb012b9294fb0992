"""Offline application: the local corpus server (the platforms' real API paths on 127.0.0.1) and `jobagg demo`."""

"""The read API, the web page, feeds, exports and alerts: an application on top of the database."""

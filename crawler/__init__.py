"""The Scrapy project, the database schema and the `jobagg` application around them."""

"""Pure reading rules applied to postings: no Scrapy, no database."""

"""Item pipelines: one class per module, pure functions underneath (see pipelines/rules/).

Bump READ_VERSION whenever normalisation or reading rules change what they produce: a re-crawl then reads
every posting again instead of reusing stored values (`jobagg reclassify` re-reads stored postings at once).
"""

READ_VERSION = "4"

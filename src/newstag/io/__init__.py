"""Reading articles and records: files, pages, corpora, and removing page furniture."""

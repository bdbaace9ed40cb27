"""The language layer: the spaCy pipeline, entities, their grouping and salience, places."""

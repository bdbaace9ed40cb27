"""Tagging many articles: DataFrames, resumable batch files and Dask."""

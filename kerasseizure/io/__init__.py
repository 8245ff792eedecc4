"""Corpus readers and synthetic corpora: files on disk -> arrays and tables. No TensorFlow here."""

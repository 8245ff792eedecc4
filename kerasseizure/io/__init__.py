"""Corpus readers and synthetic corpora: files on disk -> arrays and tables. No TensorFlow here.

`events` reads and writes the seizure event files that detection is scored on (SzCORE's
`*_events.tsv`, TUSZ `.csv_bi` / `.tse_bi`).
"""

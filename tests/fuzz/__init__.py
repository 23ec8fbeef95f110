"""Fuzz targets, their harness and corpus: run by bench/fuzz.py, replayed by test_corpus.py."""

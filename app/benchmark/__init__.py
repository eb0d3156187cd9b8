"""The benchmark: a generated initiative at sizes S, M and L, a hand-written DuckDB floor, and
Murmuration's full refresh and incremental runs timed beside it (``python -m
app.benchmark``; ``make bench``)."""

"""Development tools: the benchmark, its data builders and the local protocol fakes.

A Django app of its own, installed only in development (``DJANGO_DEBUG``) or when asked for
(``DEVTOOLS=True``), so production never loads it. It may import ``ads``; nothing under
``ads`` imports it.
"""

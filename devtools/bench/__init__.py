"""The benchmark behind `manage.py bench`: the engine and the API at scale, in data of its own.

Every figure is measured, not assumed: wall-clock times with ``time.perf_counter``, query
counts with Django's ``CaptureQueriesContext``, and every spend total is checked to the
micro-unit against what was sent. Logging stays on (it goes to a file under var/), as in
production.

``runner`` runs the steps in order; ``state`` is what a run carries; ``data`` creates and
removes the bench's own brands and campaigns; ``ingestion`` measures recording spend (the
service in one and several processes, the floor, single events, a crossing event);
``http_load`` the API under gunicorn; ``sweeps`` the reconcile sweeps, whole and split;
``checks`` every total against what was sent and ``verify_totals``; ``platforms`` the ad
platforms' pushes and sync; ``report`` the table, the JSON and the log file. Apart:
``ledger`` (`manage.py bench_ledger`) and ``admin_pages`` (`manage.py bench_admin`).
"""

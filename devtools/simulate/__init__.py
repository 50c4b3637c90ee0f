"""``manage.py simulate``: budget strategies through the real engine, on a scratch
database, against simulated platforms that report spend late."""

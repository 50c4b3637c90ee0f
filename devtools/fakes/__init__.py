"""Local servers that speak the ad platforms' protocols, for the tests, the bench and the
demo of ``make run`` (``manage.py run_fakes``): the real client libraries talk to them
unchanged. Nothing here is used in production."""

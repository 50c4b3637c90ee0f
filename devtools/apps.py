from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    # No models: the app exists for its management commands (bench, bench_ledger,
    # bench_admin, run_fakes).
    name = "devtools"
    label = "devtools"
    verbose_name = "Development tools"

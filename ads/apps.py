from django.apps import AppConfig


class AdsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ads"
    verbose_name = "Ad budgets"

    def ready(self) -> None:
        from ads import ledger_guard

        ledger_guard.install()

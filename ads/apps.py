from django.apps import AppConfig


class AdsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ads"
    verbose_name = "Ad budgets"

    def ready(self) -> None:
        from django.conf import settings

        from ads.models import ledger_guard
        from ads.services.ledger_partitions import check_retention

        ledger_guard.install()
        check_retention(settings.LEDGER_RETENTION_MONTHS)

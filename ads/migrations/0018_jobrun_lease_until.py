"""A split sweep's claim becomes a lease its ranges renew (ads.services.sweep_split): a
nullable column, so reversing it drops only the lease; runs without one fall back to the
claim's old timeout from their start."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("ads", "0017_ledger_partitions"),
    ]

    operations = [
        migrations.AddField(
            model_name="jobrun",
            name="lease_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]

"""Alert deliveries become an outbox like the platform pushes: a due time and a lease.

Rows already waiting are due at once (their creation time)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("ads", "0018_jobrun_lease_until"),
    ]

    operations = [
        migrations.AddField(
            model_name="alertdelivery",
            name="next_attempt_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunSQL(
            "UPDATE ads_alertdelivery SET next_attempt_at = created_at",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="alertdelivery",
            name="next_attempt_at",
            field=models.DateTimeField(),
        ),
        migrations.AddField(
            model_name="alertdelivery",
            name="lease_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="alertdelivery",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed (gave up)"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RemoveIndex(
            model_name="alertdelivery",
            name="alert_delivery_state_idx",
        ),
        migrations.AddIndex(
            model_name="alertdelivery",
            index=models.Index(fields=["state", "next_attempt_at"], name="alert_delivery_due_idx"),
        ),
    ]

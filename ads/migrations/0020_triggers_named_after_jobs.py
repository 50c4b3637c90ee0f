"""A periodic job's trigger in the audit trail is the job's own name (as in JobName, beat,
the task and the command): budget_check -> check_budget, dayparting -> enforce_dayparting,
daily_reset -> reset_spend_daily, monthly_reset -> reset_spend_monthly. The column grows to
hold the longer names; recorded rows are renamed, both ways."""

from django.db import migrations, models

RENAMES = [
    ("budget_check", "check_budget"),
    ("dayparting", "enforce_dayparting"),
    ("daily_reset", "reset_spend_daily"),
    ("monthly_reset", "reset_spend_monthly"),
]


def _rename(pairs: list[tuple[str, str]]) -> list[migrations.RunSQL]:
    return [
        migrations.RunSQL(
            [("UPDATE ads_campaignstatuschange SET trigger = %s WHERE trigger = %s", [new, old])],
            reverse_sql=[
                ("UPDATE ads_campaignstatuschange SET trigger = %s WHERE trigger = %s", [old, new])
            ],
        )
        for old, new in pairs
    ]


class Migration(migrations.Migration):

    dependencies = [
        ("ads", "0019_alert_delivery_outbox"),
    ]

    operations = [
        migrations.AlterField(
            model_name="campaignstatuschange",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("spend", "Spend recorded"),
                    ("check_budget", "Budget check"),
                    ("enforce_dayparting", "Dayparting"),
                    ("reset_spend_daily", "Daily reset"),
                    ("reset_spend_monthly", "Monthly reset"),
                    ("staff", "Staff action"),
                    ("setup", "Created or changed"),
                ],
                max_length=32,
            ),
        ),
        *_rename(RENAMES),
    ]

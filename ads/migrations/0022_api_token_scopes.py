"""API tokens get scopes; every token made before them keeps what it could do: ingest."""

from django.db import migrations, models

import ads.models.access


class Migration(migrations.Migration):

    dependencies = [
        ("ads", "0021_flights_shared_budgets_calendar"),
    ]

    operations = [
        # The callable default fills every existing row with ["ingest"].
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(
                default=ads.models.access.default_scopes, help_text="What the token may do."
            ),
        ),
    ]

# Names are unique per owner after NFKC normalisation and case folding (sandbox.names).

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from sandbox.names import name_key


def fill_name_keys(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("campaigns", "Campaign")
    for row in model.objects.only("pk", "name"):
        row.name_key = name_key(row.name)
        row.save(update_fields=["name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="name_key",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="campaign",
            name="campaign_unique_owner_name",
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.UniqueConstraint(
                fields=("owner", "name_key"), name="campaign_unique_owner_name_key"
            ),
        ),
    ]

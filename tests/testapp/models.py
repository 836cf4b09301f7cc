from __future__ import annotations

from django.db import models


class Thing(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Holder(models.Model):
    thing = models.ForeignKey(Thing, on_delete=models.PROTECT)

    def __str__(self) -> str:
        return f"holder of {self.thing_id}"

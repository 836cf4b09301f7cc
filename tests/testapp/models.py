from __future__ import annotations

from django.db import models


class Thing(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Holder(models.Model):
    thing = models.ForeignKey(Thing, on_delete=models.PROTECT)

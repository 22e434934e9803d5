from django.db import models

from targets.payloads import WORLD_TABLE


class World(models.Model):
    """TechEmpower's table; the runner creates and seeds it, Django only reads it."""

    id = models.IntegerField(primary_key=True)
    randomnumber = models.IntegerField()

    class Meta:
        db_table = WORLD_TABLE
        managed = False

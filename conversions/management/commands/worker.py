import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from conversions.supervisor import Supervisor


class Command(BaseCommand):
    help = (
        "Run a worker: one django-q2 qcluster per queue in WORKER_QUEUE, registered with its tools, "
        "beating, reaping lost tasks, and stopping in order on SIGTERM or Ctrl-C."
    )

    def handle(self, *args, **options):
        queues = settings.WORKER_QUEUES
        if settings.WORKER_NICE > 0:  # inherited by its qclusters and their converter children
            os.nice(settings.WORKER_NICE)
        self.stdout.write(
            f"Worker for queues {', '.join(queues)} ({settings.Q_CLUSTER['workers']} at once each)"
        )
        self.stdout.flush()
        sys.exit(Supervisor(queues).run())

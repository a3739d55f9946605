import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a django-q2 worker (qcluster) that shuts down in order on SIGTERM or Ctrl-C."

    def handle(self, *args, **options):
        # qcluster stops cleanly when its main process alone gets the signal; a process manager that
        # signals the whole group (honcho, a terminal's Ctrl-C) makes it hang. So it gets a session of
        # its own, and this process hands it the signal.
        self.stdout.write(
            f"Worker for queue {settings.WORKER_QUEUE} ({settings.Q_CLUSTER['workers']} at once)"
        )
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=settings.BASE_DIR, start_new_session=True
        )

        def forward(signum, frame):
            if cluster.poll() is None:
                cluster.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        sys.exit(cluster.wait())

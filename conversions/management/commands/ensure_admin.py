import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "On first start, create an administrator and print its login and a generated password once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("An administrator exists already.")
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser(username=username, email="", password=password)
        banner = "=" * 60
        self.stdout.write(
            f"{banner}\nAdministrator created. Log in at http://127.0.0.1:{os.getenv('PORT', '8000')}/\n  username: {username}\n  password: {password}\nThis password is shown only once.\n{banner}"
        )

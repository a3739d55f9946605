"""`python manage.py inspect_model LOC [--chip CHIP] [--json]`: what the model in a folder holds."""

import json

from django.core.management.base import BaseCommand, CommandError

from conversions.access import acting_user
from conversions.inspection import InspectionError, inspect_location


class Command(BaseCommand):
    help = (
        "Inspect the model in a location: format, inputs, outputs, operations, suggested options."
    )

    def add_arguments(self, parser):
        parser.add_argument("location", help="a folder, e.g. models/cnn/ in the user's home")
        parser.add_argument(
            "--chip",
            default="",
            choices=["", "arm", "gpu", "ascend"],
            help="also list the operations this target will not take",
        )
        parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
        parser.add_argument(
            "--user",
            default="",
            help="act as this user: models/x/ is in their home, and their access applies "
            "(default: the only superuser)",
        )

    def handle(self, *args, **options):
        try:
            user = acting_user(options["user"])
            report = inspect_location(options["location"], options["chip"], user=user)
        except (InspectionError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True))
            return
        self.stdout.write(f"{report['model']}: {report['format']}, {report['op_count']} operations")
        for spec in report["inputs"]:
            dynamic = f"  (dynamic dims: {spec['unknown_dims']})" if spec["unknown_dims"] else ""
            self.stdout.write(f"input   {spec['name']}  {spec['shape']}  {spec['dtype']}{dynamic}")
        for name in report["outputs"]:
            self.stdout.write(f"output  {name}")
        if report.get("signatures"):
            self.stdout.write("signatures: " + ", ".join(report["signatures"]))
        if report["refused_ops"]:
            self.stdout.write("refused operations: " + ", ".join(report["refused_ops"]))
        for chip, ops in report.get("unsupported_ops", {}).items():
            if ops:
                self.stdout.write(f"not taken by {chip}: " + ", ".join(ops))
        for key, value in report["suggested_options"].items():
            if value:
                self.stdout.write(f"--option {key}={value}")

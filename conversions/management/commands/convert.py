import argparse
import json
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from conversions import specs
from conversions.access import acting_user
from conversions.converters.base import STAGES
from conversions.converters.report import Report
from conversions.forms import OptionsForm, TaskForm, create_task, suggested_name
from conversions.models import ConversionTask
from templates_registry.models import ConversionTemplate


class Command(BaseCommand):
    help = "Create a conversion task; with --wait, follow it to its end (exit 0 only on success)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--spec",
            default="",
            metavar="JOB.json",
            help="a job spec (GET /api/v1/tasks/{id}/spec/): template, name, description, "
            "input_location, output_location, overwrite, options; the flags below override it",
        )
        parser.add_argument(
            "--template",
            default="",
            help="template slug, e.g. tensorflow-frozen-graph-to-tflite",
        )
        parser.add_argument(
            "--input",
            default="",
            help="input folder: models/x/ in the user's home, /shared/x/ from the data directory's "
            "root, or obs://bucket/prefix/",
        )
        parser.add_argument("--output", default="", help="output folder")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            default=None,
            help="replace a converted model already in the output folder",
        )
        parser.add_argument("--name", default="", help="task name (default: convert-xxxx)")
        parser.add_argument("--description", default=None)
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="an advanced option; repeat as needed",
        )
        parser.add_argument(
            "--user",
            "--owner",
            dest="owner",
            default="",
            help="act as this user: the task is theirs, models/x/ is in their home folder, and "
            "their access decides which folders they may use (default: the only superuser)",
        )
        parser.add_argument(
            "--wait", action="store_true", help="follow the task and exit 0 only if it succeeds"
        )
        parser.add_argument("--poll", type=float, default=None, help=argparse.SUPPRESS)

    def handle(self, *args, **opts):
        owner = self._owner(opts["owner"])
        given = self._spec(opts)
        for flag in ("template", "input", "output"):
            if not opts[flag]:
                raise CommandError(f"Name the {flag} with --{flag}, or in the job spec (--spec).")
        template = ConversionTemplate.objects.enabled().filter(slug=opts["template"]).first()
        if template is None:
            slugs = ", ".join(ConversionTemplate.objects.enabled().values_list("slug", flat=True))
            raise CommandError(
                f"Template {opts['template']} does not exist or is disabled. Templates: {slugs}"
            )
        for item in opts["option"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--option {item}: write KEY=VALUE")
            given[key.strip()] = value
        data = {
            "name": opts["name"] or suggested_name(),
            "description": opts["description"] or "",
            "template": template.slug,
            "input_location": opts["input"],
            "output_location": opts["output"],
            "overwrite": bool(opts["overwrite"]),
        }
        form = TaskForm(data, owner=owner)
        options_form = OptionsForm(template, {f"opt-{k}": v for k, v in given.items()})
        unknown = sorted(set(given) - set(options_form.fields))
        problems = [
            " ".join(errors) if field == "__all__" else f"{field}: {' '.join(errors)}"
            for field, errors in form.errors.items()
        ]
        if not options_form.is_valid():
            problems += [
                f"option {field}: {' '.join(errors)}"
                for field, errors in options_form.errors.items()
            ]
        if unknown:
            problems.append(
                f"unknown options {', '.join(unknown)}; {template.slug} takes: {', '.join(options_form.fields) or 'none'}"
            )
        if problems:
            raise CommandError("The task was not created:\n  " + "\n  ".join(problems))
        task = create_task(owner, form, options_form)
        self.stdout.write(str(task.pk))
        if opts["wait"]:
            self._follow(task, opts["poll"] or settings.CONVERT_POLL_SECONDS)

    def _spec(self, opts: dict) -> dict:
        """Fill the flags not given from the job spec in `--spec`; returns its options."""
        if not opts["spec"]:
            return {}
        try:
            with open(opts["spec"], encoding="utf-8") as handle:
                spec = json.load(handle)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"--spec {opts['spec']}: not a readable JSON file ({exc})") from None
        if not isinstance(spec, dict):
            raise CommandError(f"--spec {opts['spec']}: a job spec is a JSON object")
        if specs.unknown_fields(spec):
            raise CommandError(f"--spec {opts['spec']}: {specs.unknown_fields(spec)}")
        flags = {
            "template": "template",
            "input": "input_location",
            "output": "output_location",
            "name": "name",
            "description": "description",
            "overwrite": "overwrite",
        }
        for flag, field in flags.items():
            if opts[flag] in ("", None) and spec.get(field) not in ("", None):
                opts[flag] = spec[field] if flag == "overwrite" else str(spec[field])
        options = {} if spec.get("options") is None else spec["options"]
        if not isinstance(options, dict):
            raise CommandError(f"--spec {opts['spec']}: options is a JSON object of KEY: VALUE")
        return {key: specs.form_value(value) for key, value in options.items()}

    def _owner(self, username: str):
        try:
            return acting_user(username)
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def _follow(self, task: ConversionTask, poll: float) -> None:
        after, said = 0, 0  # the last log line shown, and how many stages were said
        stages = [stage for stage in ConversionTask.Stage if stage != ConversionTask.Stage.QUEUED]
        while True:
            task.refresh_from_db()
            for line in task.log_lines.filter(seq__gt=after):
                self.stderr.write(f"  {line.text}")
                after = line.seq
            if task.stage in stages:  # every stage up to the task's, each once and in order
                reached = stages.index(task.stage) + 1
                for stage in stages[said:reached]:
                    self.stdout.write(f"{stage} {STAGES[stage]}%")
                said = max(said, reached)
            if not task.is_active:
                break
            time.sleep(poll)
        self._summarize(Report.from_dict(task.result))
        if task.status == ConversionTask.Status.SUCCEEDED:
            self.stdout.write(f"succeeded: outputs in {task.output_location}")
            return
        self.stderr.write(f"{task.status}: {task.error_message}")
        sys.exit(1)

    def _summarize(self, report: Report) -> None:
        """The figures a script wants without reading report.json: verification and accuracy."""
        verification = report.verification
        if verification:
            worst = [
                o.worst_sample_cosine
                for o in verification.outputs
                if o.worst_sample_cosine is not None
            ]
            figure = f", worst-sample cosine {min(worst):.6f}" if worst else ""
            self.stdout.write(
                f"verification: {verification.verdict} on {verification.samples} samples "
                f"({verification.source}){figure}"
            )
        if report.accuracy:
            self.stdout.write(f"accuracy: {report.accuracy.line()}")

import re
import secrets
import string

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from conversions import locations
from conversions.jobs import enqueue
from conversions.models import ConversionTask
from conversions.quota import active_task_refusal
from templates_registry.models import ConversionTemplate
from templates_registry.options import REQUIRED, split_choices

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$")  # ModelArts.3056
DESCRIPTION_FORBIDDEN = set("&!\"'<>=")  # ModelArts.3057, with HiLens' quote


def suggested_name() -> str:
    """`convert-xxxx` with a random four-character suffix, as the original pre-filled it."""
    return "convert-" + "".join(
        secrets.choice(string.ascii_lowercase + string.digits) for _ in range(4)
    )


class TaskForm(forms.Form):
    name = forms.CharField(label=_("Name"))
    description = forms.CharField(
        label=_("Description"),
        max_length=100,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 100}),
    )
    template = forms.ModelChoiceField(
        label=_("Conversion template"),
        queryset=ConversionTemplate.objects.enabled(),
        to_field_name="slug",
        widget=forms.RadioSelect,
    )
    input_location = forms.CharField(label=_("Conversion input path"), max_length=1024)
    output_location = forms.CharField(label=_("Conversion output path"), max_length=1024)
    overwrite = forms.BooleanField(
        label=_("Overwrite a converted model already in the output folder"), required=False
    )

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.resolved = {}
        self.fields["name"].widget.attrs.update(pattern=NAME_RE.pattern, maxlength=24)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not NAME_RE.match(name):
            raise forms.ValidationError(
                _(
                    "Use 2 to 24 characters: lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit."
                )
            )
        if self.owner and ConversionTask.objects.filter(owner=self.owner, name=name).exists():
            raise forms.ValidationError(
                _("You already have a task named %(name)s: choose another name.") % {"name": name}
            )
        return name

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        bad = sorted(DESCRIPTION_FORBIDDEN.intersection(description))
        if bad:
            raise forms.ValidationError(
                _("The description cannot contain %(chars)s.") % {"chars": " ".join(bad)}
            )
        return description

    def clean_input_location(self) -> str:
        location = self._location("input_location", locations.READ)
        try:
            location.check_input()
        except locations.LocationError as exc:
            raise forms.ValidationError(str(exc)) from None
        return str(location)

    def clean_output_location(self) -> str:
        return str(self._location("output_location", locations.WRITE))

    def _location(self, field: str, need: str):
        """The location for the owner, through the access check; kept for clean()."""
        try:
            found = locations.parse(self.cleaned_data[field], user=self.owner, need=need)
        except locations.LocationError as exc:
            raise forms.ValidationError(str(exc)) from None
        self.resolved[field] = found
        return found

    def clean(self):
        data = super().clean()
        refusal = active_task_refusal(self.owner)
        if refusal:
            self.add_error(None, refusal)
        source, target = self.resolved.get("input_location"), self.resolved.get("output_location")
        if source and target and "input_location" in data and "output_location" in data:
            try:
                clash = locations.overlap(source, target)
            except locations.LocationError as exc:
                self.add_error("output_location", str(exc))
                return data
            if clash:
                self.add_error(
                    "output_location",
                    _(
                        "The output folder %(output)s and the input folder %(input)s overlap (one "
                        "is the other, or lies inside it): choose an output folder apart from the "
                        "input."
                    )
                    % {"output": target, "input": source},
                )
                return data
        if target and "output_location" in data and not data.get("overwrite"):
            self._refuse_converted_output(target)
        return data

    def _refuse_converted_output(self, output) -> None:
        try:
            taken = output.holds_converted_model()
        except locations.LocationError as exc:
            self.add_error("output_location", str(exc))
            return
        if taken:
            self.add_error(
                "output_location",
                _(
                    "The folder %(path)s already holds a converted model (report.json): choose "
                    "another folder, or tick Overwrite."
                )
                % {"path": output},
            )


class SeveralChoicesField(forms.MultipleChoiceField):
    """Checkboxes that also take "SM80,SM86" (a script posting the form); the option schema, not the
    field, judges the values, so the web, the CLI and the admin give one message."""

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else [value] if value else []
        parts = [part for item in values for part in split_choices(item)]
        return list(dict.fromkeys(parts))

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class OptionsForm(forms.Form):
    """The chosen template's advanced options, rendered and validated from its option schema."""

    def __init__(self, template: ConversionTemplate, *args, **kwargs):
        kwargs.setdefault("prefix", "opt")
        super().__init__(*args, **kwargs)
        self.template = template
        zh = (get_language() or "").startswith("zh")
        for option in template.option_schema:
            label = option["label_zh"] if zh else option["label_en"]
            help_text = option["help_zh"] if zh else option["help_en"]
            attrs = {}
            common = dict(
                label=label, help_text=help_text, required=False, initial=option["default"]
            )
            if option["type"] == "choice":
                field = forms.ChoiceField(choices=[(c, c) for c in option["choices"]], **common)
            elif option["type"] == "multichoice":
                common["initial"] = split_choices(option["default"] or "")
                field = SeveralChoicesField(
                    choices=[(c, c) for c in option["choices"]],
                    widget=forms.CheckboxSelectMultiple,
                    **common,
                )
                if isinstance(self.initial.get(option["key"]), str):  # from a task's options
                    self.initial[option["key"]] = split_choices(self.initial[option["key"]])
            elif option["type"] == "integer":
                # Bounds are hints here; the schema check gives the one message CLI and web share.
                attrs.update(min=option["min_value"], max=option["max_value"])
                field = forms.IntegerField(**common)
            else:
                if option["pattern"]:
                    attrs["pattern"] = option["pattern"]
                if option["max_length"]:
                    attrs["maxlength"] = option["max_length"]
                field = forms.CharField(**common)
            if option["required"] and option["type"] != "multichoice":  # not on every checkbox
                attrs["required"] = True
            field.widget.attrs.update(attrs)
            field.option_required = option["required"]
            self.fields[option["key"]] = field

    def clean(self):
        data = super().clean()
        # Several choices travel as the schema's comma-separated string.
        data = {k: ",".join(v) if isinstance(v, list) else v for k, v in data.items()}
        given = {key: value for key, value in data.items() if value not in (None, "", [])}
        options, errors = self.template.clean_options(given)
        for key, message in errors.items():
            if message == REQUIRED:
                message = _("This option is required.")
            self.add_error(None if key == "__all__" or key not in self.fields else key, message)
        self.options = options
        return data


def create_task(owner, task_form: TaskForm, options_form: OptionsForm) -> ConversionTask:
    """Store a validated task in `initializing` and deliver it to a worker on commit."""
    data = task_form.cleaned_data
    task = ConversionTask.objects.create(
        owner=owner,
        name=data["name"],
        description=data["description"],
        template=data["template"],
        input_location=data["input_location"],
        output_location=data["output_location"],
        overwrite=data.get("overwrite", False),
        options=options_form.options,
    )
    enqueue(task)
    return task

"""The API's JSON shapes (what drf-spectacular documents). Input is judged by the console's forms."""

from rest_framework import serializers

from conversions.models import ConversionTask
from templates_registry.models import ConversionTemplate


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable, for scripts to branch on")
    message = serializers.CharField(help_text="for people")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='validation_error only: messages by field ("" for the request as a whole)',
    )


class OptionSerializer(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.CharField()
    label_en = serializers.CharField()
    label_zh = serializers.CharField()
    help_en = serializers.CharField()
    help_zh = serializers.CharField()
    required = serializers.BooleanField()
    default = serializers.JSONField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    min_value = serializers.IntegerField(allow_null=True, required=False)
    max_value = serializers.IntegerField(allow_null=True, required=False)
    pattern = serializers.CharField(allow_blank=True, required=False)
    max_length = serializers.IntegerField(allow_null=True, required=False)


class TemplateSerializer(serializers.ModelSerializer):
    name = serializers.CharField()
    description = serializers.CharField()

    class Meta:
        model = ConversionTemplate
        fields = [
            "slug",
            "name",
            "description",
            "chip",
            "framework",
            "model_format",
            "output_format",
        ]


class TemplateDetailSerializer(TemplateSerializer):
    option_schema = OptionSerializer(many=True)

    class Meta(TemplateSerializer.Meta):
        fields = TemplateSerializer.Meta.fields + ["option_schema"]


class TaskSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    template = serializers.CharField(source="template.slug")

    class Meta:
        model = ConversionTask
        fields = [
            "id",
            "name",
            "owner",
            "template",
            "status",
            "stage",
            "progress",
            "created",
            "started",
            "finished",
            "error_message",
        ]


class TaskDetailSerializer(TaskSerializer):
    report = serializers.JSONField(source="result", help_text="report.json once the task ended")

    class Meta(TaskSerializer.Meta):
        fields = TaskSerializer.Meta.fields + [
            "description",
            "input_location",
            "output_location",
            "overwrite",
            "options",
            "report",
        ]


class TaskPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    size = serializers.IntegerField()
    results = TaskSerializer(many=True)


class SpecSerializer(serializers.Serializer):
    """The job spec: what `GET /tasks/{id}/spec` gives, `POST /tasks/` and `convert --spec` take."""

    template = serializers.CharField(help_text="template slug")
    name = serializers.CharField(required=False, help_text="default: convert-xxxx")
    description = serializers.CharField(required=False, allow_blank=True)
    input_location = serializers.CharField()
    output_location = serializers.CharField()
    overwrite = serializers.BooleanField(required=False, default=False)
    options = serializers.DictField(child=serializers.JSONField(), required=False)


class LogLineSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    level = serializers.CharField()
    text = serializers.CharField()


class LogSerializer(serializers.Serializer):
    lines = LogLineSerializer(many=True)
    after = serializers.IntegerField(help_text="pass as ?after= to get only newer lines")
    active = serializers.BooleanField(help_text="more lines may come")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class DeleteRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1))
    delete_outputs = serializers.BooleanField(required=False, default=False)


class RefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.CharField()


class DeleteResultSerializer(serializers.Serializer):
    deleted = serializers.ListField(child=serializers.IntegerField())
    refused = RefusalSerializer(many=True)
    output_files_deleted = serializers.IntegerField()


class ArtifactSerializer(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()


class FileSerializer(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField()


class FolderSerializer(serializers.Serializer):
    path = serializers.CharField()
    folders = serializers.ListField(child=serializers.CharField())
    files = FileSerializer(many=True)
    next_page = serializers.CharField(help_text="pass as ?page= for the next page; '' at the end")
    roots = serializers.ListField(child=serializers.CharField())


class InspectRequestSerializer(serializers.Serializer):
    input_location = serializers.CharField()
    template = serializers.CharField(required=False, allow_blank=True)


class InspectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    location = serializers.CharField()
    status = serializers.CharField()
    error = serializers.CharField()
    report = serializers.JSONField(source="result")
    note = serializers.CharField(required=False)

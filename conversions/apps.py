from django.apps import AppConfig


def start_warm_child(sender, **kwargs) -> None:
    """A django-q worker process just started: its first job should find a warm child."""
    from django.conf import settings

    from conversions.isolation import warm_slot

    slot = warm_slot(settings)
    if slot is not None:
        slot.fill()


class ConversionsConfig(AppConfig):
    name = "conversions"
    verbose_name = "Conversions"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        post_spawn.connect(start_warm_child, dispatch_uid="conversions-warm-child")

"""The profile page: create (shown once), rename and revoke personal API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api.models import ApiToken
from api.webhooks import Delivery, Webhook, WebhookError

NAME_MAX = 60
DELIVERIES_SHOWN = 20


def _name(request: HttpRequest) -> tuple[str, str]:
    """(the token name typed, or '' with the reason)."""
    name = request.POST.get("name", "").strip()
    if not name or len(name) > NAME_MAX:
        return "", _("Name the token with 1 to %(max)d characters, such as ci-pipeline.") % {
            "max": NAME_MAX
        }
    return name, ""


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    created_text, error = "", ""
    if request.method == "POST":
        name, error = _name(request)
        if name:
            token, created_text = ApiToken.issue(request.user, name)
            messages.success(
                request,
                _("Token %(name)s created. Copy it now: it is not shown again.") % {"name": name},
            )
    return _page(request, created_text=created_text, error=error)


def _page(request: HttpRequest, **context) -> HttpResponse:
    context.update(
        tokens=ApiToken.objects.filter(user=request.user),
        webhooks=Webhook.objects.filter(user=request.user),
        deliveries=Delivery.objects.filter(webhook__user=request.user).select_related("webhook")[
            :DELIVERIES_SHOWN
        ],
    )
    failed = context.get("error") or context.get("webhook_error")
    return render(request, "api/profile.html", context, status=400 if failed else 200)


@login_required
@require_POST
def add_webhook(request: HttpRequest) -> HttpResponse:
    try:
        hook = Webhook.register(request.user, request.POST.get("url", ""))
    except WebhookError as exc:
        return _page(request, webhook_error=str(exc))
    messages.success(
        request,
        _("Webhook %(url)s added. Copy its secret now: it is not shown again.") % {"url": hook.url},
    )
    return _page(request, webhook_secret=hook.secret)


@login_required
@require_POST
def delete_webhook(request: HttpRequest, webhook_id: int) -> HttpResponse:
    hook = get_object_or_404(Webhook.objects.filter(user=request.user), pk=webhook_id)
    hook.delete()
    messages.success(request, _("Webhook %(url)s deleted.") % {"url": hook.url})
    return redirect("profile")


@login_required
@require_POST
def rename(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=token_id)
    name, error = _name(request)
    if error:
        messages.error(request, error)
    else:
        ApiToken.objects.filter(pk=token.pk).update(name=name)
        messages.success(request, _("Token renamed to %(name)s.") % {"name": name})
    return redirect("profile")


@login_required
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=token_id)
    if token.revoke():
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    else:
        messages.error(request, _("Token %(name)s was already revoked.") % {"name": token.name})
    return redirect("profile")

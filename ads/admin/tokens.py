"""API tokens: created here (the secret is shown once) and revoked here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from ads.models import ApiToken
from ads.services.tokens import token_create, tokens_revoke


class ApiTokenForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ApiToken
        fields = ["name", "brands", "expires_at"]
        help_texts = {
            "brands": "The brands this token may write to. Empty: every brand (superusers only)."
        }

    by_superuser = False  # set per request by ApiTokenAdmin.get_form

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.cleaned_data.get("brands") and not self.by_superuser:
            self.add_error(
                "brands",
                "Choose at least one brand; only superusers can create a " "token for every brand.",
            )
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Create (the secret is shown once, on the page after saving) and revoke tokens."""

    list_display = ["name", "prefix", "scope", "state", "created_by", "created_at", "last_used_at"]
    list_filter = ["all_brands", "revoked_at"]
    search_fields = ["name", "prefix"]
    filter_horizontal = ["brands"]
    actions = ["revoke"]
    readonly_fields = [
        "prefix",
        "all_brands",
        "brands",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "brands", "expires_at")
        return ("name", *self.readonly_fields)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return type(
                "ApiTokenAddForm", (ApiTokenForm,), {"by_superuser": request.user.is_superuser}
            )
        return form

    @admin.display(description="May write to")
    def scope(self, obj: ApiToken) -> str:
        return "every brand" if obj.all_brands else ", ".join(b.name for b in obj.brands.all())

    @admin.display(description="State")
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "active" if obj.is_usable(timezone.now()) else "expired"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        token, secret = token_create(
            name=form.cleaned_data["name"],
            brand_ids=[brand.pk for brand in form.cleaned_data["brands"]],
            by_superuser=request.user.is_superuser,
            at=timezone.now(),
            created_by_id=request.user.pk,
            expires_at=form.cleaned_data["expires_at"],
        )
        obj.pk = token.pk
        # Kept on the request only, for the page shown right after this save.
        request._created_token_secret = secret  # type: ignore[attr-defined]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)  # brands were set by the service

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        token = ApiToken.objects.get(pk=obj.pk)
        return TemplateResponse(
            request,
            "admin/ads/apitoken/created.html",
            {
                **self.admin_site.each_context(request),
                "token": token,
                "brands": [brand.name for brand in token.brands.all()],
                "secret": getattr(request, "_created_token_secret"),
                "changelist_url": reverse("admin:ads_apitoken_changelist"),
                "title": "API token created",
            },
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = tokens_revoke(
            token_ids=list(queryset.values_list("id", flat=True)), at=timezone.now()
        )
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

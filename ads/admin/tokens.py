"""API tokens: created here (the secret is shown once) and revoked here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from ads.admin.access import visible_brands
from ads.admin.display import local_time
from ads.models import ApiToken, Brand, TokenScope
from ads.services.access import allowed_brand_ids
from ads.services.tokens import token_create, tokens_revoke


class ApiTokenForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        initial=[TokenScope.INGEST.value],
        widget=forms.CheckboxSelectMultiple,
        help_text="What the token may do; at least one.",
    )

    class Meta:
        model = ApiToken
        fields = ["name", "all_brands", "brands", "scopes", "expires_at"]
        labels = {"all_brands": "Every brand"}
        help_texts = {
            "all_brands": "Tick to let this token write to every brand, present and future "
            "(superusers only). Otherwise choose the brands below.",
            "brands": "The brands this token may write to.",
        }

    by_superuser = False  # set per request by ApiTokenAdmin.get_form

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        every = self.cleaned_data.get("all_brands", False)
        chosen = self.cleaned_data.get("brands")
        if every and not self.by_superuser:
            self.add_error("all_brands", "Only superusers can create a token for every brand.")
        elif every and chosen:
            self.add_error("brands", "Leave the brands empty for a token for every brand.")
        elif not every and not chosen and "brands" not in self.errors:
            # "Every brand" is never what an empty choice means: it must be ticked.
            self.add_error(
                "brands",
                "Choose at least one brand; only superusers can create a token for every "
                "brand, by ticking “Every brand”.",
            )
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Create (the secret is shown once, on the page after saving) and revoke tokens."""

    list_display = [
        "name",
        "prefix",
        "scope",
        "scope_list",
        "state",
        "created_by",
        "created",
        "last_used",
    ]
    list_filter = ["all_brands", "revoked_at"]
    search_fields = ["name", "prefix"]
    autocomplete_fields = ["brands"]
    actions = ["revoke"]
    readonly_fields = [
        "prefix",
        "all_brands",
        "brands",
        "scope_list",
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
            return ("name", "all_brands", "brands", "scopes", "expires_at")
        return ("name", *self.readonly_fields)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenForm
        form = super().get_form(request, obj, change=change, **kwargs)
        # A class made for this request by modelform_factory, so this is not shared.
        setattr(form, "by_superuser", bool(request.user.is_superuser))
        return form

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        """A staff member sees only tokens that reach no brand beyond theirs."""
        queryset = super().get_queryset(request)
        allowed = allowed_brand_ids(request.user)
        if allowed is None:
            return queryset
        return queryset.filter(all_brands=False).exclude(
            brands__in=Brand.objects.exclude(pk__in=allowed)
        )

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404("No such token, or one that reaches beyond your brands.")
        return found

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "brands":
            kwargs["queryset"] = visible_brands(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # Tokens belong to no one brand: their times are shown in the server's zone, named.
    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: ApiToken) -> str:
        return local_time(obj.created_at, settings.TIME_ZONE)

    @admin.display(description="Last used", ordering="last_used_at")
    def last_used(self, obj: ApiToken) -> str:
        return local_time(obj.last_used_at, settings.TIME_ZONE)

    @admin.display(description="May write to")
    def scope(self, obj: ApiToken) -> str:
        return "every brand" if obj.all_brands else ", ".join(b.name for b in obj.brands.all())

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiToken) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="State")
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "active" if obj.is_usable(timezone.now()) else "expired"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        brand_ids = [brand.pk for brand in form.cleaned_data["brands"]]
        # The form's choices are the user's brands already; checked again where it is saved.
        allowed = allowed_brand_ids(request.user)
        if (
            allowed is not None
            and Brand.objects.filter(pk__in=brand_ids).exclude(pk__in=allowed).exists()
        ):
            raise PermissionDenied("A token cannot reach beyond your brands.")
        token, secret = token_create(
            name=form.cleaned_data["name"],
            brand_ids=brand_ids,
            by_superuser=request.user.is_superuser,
            at=timezone.now(),
            created_by_id=request.user.pk,
            expires_at=form.cleaned_data["expires_at"],
            scopes=form.cleaned_data["scopes"],
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

"""HTML forms to the domain's pydantic inputs, and their errors back to the fields."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from baskets.api.errors import _english, _french
from baskets.errors import InvalidInput
from baskets.web.i18n import N_

M = TypeVar("M", bound=BaseModel)

# The labels of form fields, for the error summary at the top of a refused form.
FIELD_LABELS = {
    "reference": N_("Référence"), "contact_name": N_("Nom du contact"),
    "phone": N_("Téléphone"), "address": N_("Adresse"), "adults": N_("Adultes"),
    "children": N_("Enfants"), "infants": N_("Nourrissons"), "neighbourhood_id": N_("Quartier"),
    "distribution_point_id": N_("Point de distribution"),
    "excluded_products": N_("Produits exclus"), "excluded_categories": N_("Catégories exclues"),
    "referral_reason": N_("Motif d'orientation"), "valid_until": N_("Valable jusqu'au"),
    "consent_date": N_("Date du consentement"), "last_contact_date": N_("Dernier contact"),
    "farmer_id": N_("Producteur"), "product_id": N_("Produit"),
    "quantity_kg": N_("Quantité (kg)"), "price_per_kg": N_("Prix (€/kg)"),
    "harvest_date": N_("Date de récolte"), "pickup_day": N_("Jour"), "pickup_start": N_("De"),
    "pickup_end": N_("À"), "starts_on": N_("Du"), "ends_on": N_("Au"),
    "title": N_("Titre de l'offre"), "skills": N_("Compétences"), "hours": N_("Heures offertes"),
    "min_chunk_hours": N_("Intervention minimale (h)"), "lat": N_("Latitude"),
    "lon": N_("Longitude"), "max_km": N_("Distance maximale (km)"),
    "home_area": N_("Secteur ou quartier"), "vehicle_kind": N_("Véhicule"),
    "capacity_kg": N_("Capacité (kg)"), "refrigerated": N_("Véhicule réfrigéré"),
    "hours_per_month": N_("Heures par mois"),
    "max_rounds_per_month": N_("Tournées par mois au plus"),
    "availability": N_("Mes disponibilités"),
}


class FormInvalid(Exception):
    """A form whose values do not validate: field name -> message, plus a summary."""

    def __init__(self, errors: dict[str, str], summary: str | None = None) -> None:
        super().__init__(summary or "invalid form")
        self.errors = errors
        self.summary = summary


def text(form: FormData, name: str) -> str:
    """A text field, stripped; an absent one is empty."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    """A text field, or None when left empty (so optional fields stay unset)."""
    return text(form, name) or None


def number(form: FormData, name: str) -> str | None:
    """A number as typed, accepting the French decimal comma; None when empty."""
    value = text(form, name).replace("\u202f", "").replace(" ", "").replace(",", ".")
    return value or None


def checkbox(form: FormData, name: str) -> bool:
    return form.get(name) is not None


def skills(form: FormData, prefix: str = "skill") -> dict[str, str]:
    """Rows skill_name_N / skill_level_N to {name: level}; empty names are ignored."""
    found: dict[str, str] = {}
    for index in range(20):
        name = text(form, f"{prefix}_name_{index}").lower()
        if name:
            found[name] = text(form, f"{prefix}_level_{index}") or "1"
    return found


def validate(model: type[M], data: dict[str, Any], locale: str) -> M:
    """The model built from `data`, else FormInvalid naming each bad field in `locale`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ())]
            field = loc[0] if loc else "__all__"
            if len(loc) == 1 and data.get(field) in ("", None):
                # An empty field says "required", not "invalid UUID" or a list of enum values.
                message = "Champ obligatoire." if locale == "fr" else "This field is required."
            else:
                message = _french(dict(error)) if locale == "fr" else _english(dict(error))
            errors.setdefault(field, message)
        raise FormInvalid(errors) from exc


def domain_errors(exc: InvalidInput, locale: str) -> FormInvalid:
    """A service's InvalidInput as form errors (its details name the fields)."""
    errors: dict[str, str] = {}
    for detail in exc.details or []:
        field = str(detail.get("field", "__all__")).split(".")[0]
        errors.setdefault(field, str(detail.get("message", "")))
    return FormInvalid(errors, exc.message(locale))

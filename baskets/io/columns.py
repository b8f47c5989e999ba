"""The columns of each import: French header, accepted variants, and how a cell is read.

`COLUMNS` is the documentation of record: the downloadable templates and the exports are built
from it, and the header matching ignores case, accents, punctuation and spacing, so
"N° de téléphone", "telephone" and "TÉL." all find the phone column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

Kind = Literal["households", "lots", "volunteers"]
KINDS: tuple[Kind, ...] = ("households", "lots", "volunteers")


class CellError(ValueError):
    """A cell that cannot be read; carries a French and an English message."""

    def __init__(self, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_fr = message_fr
        self.message_en = message_en


@lru_cache(maxsize=65_536)
def normalise(text: str) -> str:
    """Lower case, no accents, ligatures spelt out, punctuation as single spaces."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


# ---- cell readers: French conventions first, ISO accepted too ----------------------------

_DATE_FR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_TIME = re.compile(r"^(\d{1,2})[:hH](\d{2})$")


def read_date(text: str) -> date:
    """dd/mm/yyyy (or dd-mm-yyyy, dd.mm.yyyy), or ISO yyyy-mm-dd."""
    match = _DATE_FR.match(text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = _DATE_ISO.match(text)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise CellError("Date inexistante.", "This date does not exist.") from exc
    raise CellError("Date invalide (format JJ/MM/AAAA attendu).",
                    "Invalid date (DD/MM/YYYY expected).")


def read_datetime(text: str, tz: ZoneInfo) -> datetime:
    """'dd/mm/yyyy hh:mm' in local time (or ISO 8601 with an offset)."""
    day, _, clock = text.strip().partition(" ")
    if "T" in text and not clock:
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise CellError("Date et heure invalides (JJ/MM/AAAA HH:MM attendu).",
                            "Invalid date and time (DD/MM/YYYY HH:MM expected).") from exc
        return value if value.tzinfo else value.replace(tzinfo=tz)
    match = _TIME.match(clock.strip())
    if not match:
        raise CellError("Date et heure invalides (JJ/MM/AAAA HH:MM attendu).",
                        "Invalid date and time (DD/MM/YYYY HH:MM expected).")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise CellError("Heure invalide.", "Invalid time.")
    return datetime.combine(read_date(day), datetime.min.time(), tzinfo=tz).replace(
        hour=hour, minute=minute
    )


_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def read_number(text: str) -> float:
    """A decimal with a comma or a point; spaces as thousands separators are allowed."""
    compact = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if compact.count(",") == 1 and "." in compact:  # 1.234,5
        compact = compact.replace(".", "")
    if not _NUMBER.match(compact):
        raise CellError("Nombre attendu (virgule décimale acceptée).",
                        "Number expected (decimal comma accepted).")
    return float(compact.replace(",", "."))


def read_int(text: str) -> int:
    """A whole number ('3', '3,0' and '3.0' are all 3)."""
    value = read_number(text)
    if not value.is_integer():
        raise CellError("Nombre entier attendu.", "Whole number expected.")
    return int(value)


_TRUE = {"oui", "o", "vrai", "x", "1", "yes", "y", "true"}
_FALSE = {"non", "n", "faux", "0", "no", "false"}


def read_bool(text: str) -> bool:
    """oui / non (and vrai/faux, x, 1/0, yes/no)."""
    key = normalise(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError("Oui ou non attendu.", "Yes or no expected.")


def read_list(text: str) -> list[str]:
    """Items separated by ',', ';' or '|'."""
    return [item.strip() for item in re.split(r"[;,|]", text) if item.strip()]


def choice(labels: dict[str, str], what_fr: str, what_en: str) -> Any:
    """A reader mapping French labels (and the stored values) to stored values."""
    table = {normalise(label): value for label, value in labels.items()}
    table.update({normalise(value): value for value in labels.values()})
    shown = ", ".join(sorted({label for label in labels if label == label.lower()}))
    values = ", ".join(sorted(set(labels.values())))

    def read(text: str) -> str:
        value = table.get(normalise(text))
        if value is None:
            raise CellError(f"{what_fr} inconnu(e) ; valeurs possibles : {shown}.",
                            f"Unknown {what_en}; possible values: {values}.")
        return value

    return read


REFERRAL_LABELS = {
    "perte d'emploi": "job_loss",
    "chômage": "job_loss",
    "famille monoparentale": "single_parent",
    "parent isolé": "single_parent",
    "étudiant": "student",
    "étudiante": "student",
    "retraité à faible revenu": "retired_low_income",
    "retraite": "retired_low_income",
    "santé": "health",
    "logement": "housing",
    "autre": "other",
}
CATEGORY_LABELS = {
    "légumes": "vegetable",
    "légume": "vegetable",
    "fruits": "fruit",
    "fruit": "fruit",
    "œufs": "egg",
    "oeufs": "egg",
    "produits laitiers": "dairy",
    "laitages": "dairy",
    "céréales": "grain",
    "légumineuses": "legume",
}
VEHICLE_LABELS = {
    "aucun": "none",
    "sans": "none",
    "voiture": "car",
    "camionnette": "van",
    "utilitaire": "van",
    "vélo cargo": "cargo_bike",
    "vélo-cargo": "cargo_bike",
}
WEEKDAYS = {
    "lundi": 0, "lun": 0, "mon": 0, "monday": 0,
    "mardi": 1, "mar": 1, "tue": 1, "tuesday": 1,
    "mercredi": 2, "mer": 2, "wed": 2, "wednesday": 2,
    "jeudi": 3, "jeu": 3, "thu": 3, "thursday": 3,
    "vendredi": 4, "ven": 4, "fri": 4, "friday": 4,
    "samedi": 5, "sam": 5, "sat": 5, "saturday": 5,
    "dimanche": 6, "dim": 6, "sun": 6, "sunday": 6,
}
WEEKDAY_SHORT = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")

_SLOT = re.compile(r"^([a-z]+) (\d{1,2})(?: |h)(\d{2}) (?:a )?(\d{1,2})(?: |h)(\d{2})$")


def read_availability(text: str) -> list[dict[str, Any]]:
    """'lun 08:00-12:00, mer 14h00-18h00' into slots."""
    slots = []
    for item in read_list(text):
        match = _SLOT.match(normalise(item))
        if not match or match.group(1) not in WEEKDAYS:
            raise CellError(
                f"Créneau « {item} » illisible (ex. : lun 08:00-12:00).",
                f"Unreadable slot '{item}' (e.g. mon 08:00-12:00).",
            )
        slots.append({
            "weekday": WEEKDAYS[match.group(1)],
            "start": f"{int(match.group(2)):02d}:{match.group(3)}",
            "end": f"{int(match.group(4)):02d}:{match.group(5)}",
        })
    return slots


def read_skills(text: str) -> dict[str, int]:
    """'logistics:3, accounting:2' (a skill without a level counts as 1)."""
    skills: dict[str, int] = {}
    for item in read_list(text):
        name, _, level = item.partition(":")
        if not level:
            name, _, level = item.partition("=")
        try:
            skills[name.strip()] = read_int(level) if level.strip() else 1
        except CellError as exc:
            raise CellError(f"Niveau de « {name.strip()} » illisible (ex. : logistique:3).",
                            f"Unreadable level of '{name.strip()}' (e.g. logistics:3).") from exc
    return skills


def format_availability(slots: list[dict[str, Any]]) -> str:
    """The inverse of read_availability, for exports."""
    return ", ".join(f"{WEEKDAY_SHORT[slot['weekday']]} {slot['start']}-{slot['end']}"
                     for slot in slots)


# ---- the columns of each import ---------------------------------------------------------

Reader = Literal["text", "int", "number", "bool", "date", "datetime", "list", "ref", "skills",
                 "availability", "referral", "categories", "vehicle"]


@dataclass(frozen=True)
class Column:
    """One column of an import: the field it fills, its French header and accepted variants."""

    field: str
    header: str
    aliases: tuple[str, ...]
    reader: Reader
    required: bool
    example: str
    help_fr: str
    header_en: str
    help_en: str = ""  # filled from HELP_EN below, so the table above stays readable

    def help(self, locale: str) -> str:
        """What the column holds, in French or English."""
        return self.help_en if locale == "en" and self.help_en else self.help_fr


COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "households": (
        Column("reference", "Référence", ("réf", "ref", "référence foyer", "n° dossier",
                                          "numéro de dossier", "identifiant", "id foyer",
                                          "reference"),
               "text", True, "AMP-FV-0042",
               "Identifiant stable du foyer dans votre association (lettres, chiffres, . _ -) ; "
               "ré-importer le même fichier met à jour ces foyers au lieu d'en créer.",
               "Reference"),
        Column("contact_name", "Nom du contact", ("nom", "contact", "nom prénom", "nom et prénom",
                                                   "nom complet", "contact name", "name"),
               "text", False, "Nadia B.", "Personne à joindre pour le foyer.", "Contact name"),
        Column("phone", "Téléphone", ("tél", "tel", "portable", "mobile", "n° de téléphone",
                                       "numéro de téléphone", "phone"),
               "text", False, "06 12 34 56 78", "Numéro de téléphone.", "Phone"),
        Column("address", "Adresse", ("adresse postale", "domicile", "address"),
               "text", False, "12 rue des Lilas, 13015 Marseille", "Adresse du foyer.",
               "Address"),
        Column("adults", "Adultes", ("nb adultes", "nombre d'adultes", "nombre adultes",
                                     "adults"),
               "int", True, "2", "Nombre d'adultes (au moins 1).", "Adults"),
        Column("children", "Enfants", ("nb enfants", "nombre d'enfants", "nombre enfants",
                                       "children"),
               "int", False, "1", "Nombre d'enfants de 3 ans et plus (0 si vide).", "Children"),
        Column("infants", "Nourrissons", ("bébés", "moins de 3 ans", "enfants de moins de 3 ans",
                                          "nb nourrissons", "infants"),
               "int", False, "0", "Nombre d'enfants de moins de 3 ans (0 si vide).", "Infants"),
        Column("neighbourhood_id", "Quartier", ("qpv", "code qpv", "quartier prioritaire",
                                                "neighbourhood"),
               "ref", True, "Frais Vallon",
               "Nom ou code officiel du quartier prioritaire (QPV) de votre territoire.",
               "Neighbourhood"),
        Column("distribution_point_id", "Point de distribution",
               ("point", "lieu de distribution", "point de retrait", "distribution point"),
               "ref", True, "Centre social Frais Vallon",
               "Nom d'un point de distribution de votre association.", "Distribution point"),
        Column("excluded_products", "Produits exclus", ("exclusions", "allergies",
                                                         "produits à exclure", "excluded products"),
               "list", False, "Céleri-rave, Pois chiches",
               "Produits du catalogue à ne jamais mettre dans le panier, séparés par des virgules.",
               "Excluded products"),
        Column("excluded_categories", "Catégories exclues",
               ("catégories à exclure", "excluded categories"),
               "categories", False, "produits laitiers",
               "Catégories exclues : légumes, fruits, œufs, produits laitiers, céréales, "
               "légumineuses.", "Excluded categories"),
        Column("referral_reason", "Motif", ("motif d'orientation", "motif d'inscription",
                                            "raison", "referral reason"),
               "referral", True, "famille monoparentale",
               "Motif : perte d'emploi, famille monoparentale, étudiant, retraité à faible "
               "revenu, santé, logement, autre.", "Referral reason"),
        Column("valid_until", "Valide jusqu'au", ("fin de validité", "validité", "date de fin",
                                                  "valid until"),
               "date", True, "31/05/2027", "Date de fin de l'orientation (JJ/MM/AAAA).",
               "Valid until"),
        Column("consent_date", "Date de consentement", ("consentement", "date consentement",
                                                        "consent date"),
               "date", True, "02/11/2026",
               "Date à laquelle le foyer a consenti au traitement de ses données.",
               "Consent date"),
        Column("last_contact_date", "Dernier contact", ("date du dernier contact",
                                                         "date dernier contact",
                                                         "last contact"),
               "date", True, "15/11/2026", "Date du dernier contact avec le foyer.",
               "Last contact"),
    ),
    "lots": (
        Column("farmer_id", "Producteur", ("producteur ou siret", "siret", "ferme", "exploitation",
                                           "farmer"),
               "ref", True, "Ferme des Paluds",
               "Nom ou SIRET d'un producteur de votre équipe.", "Farmer"),
        Column("product_id", "Produit", ("produit du catalogue", "product"),
               "ref", True, "Poireaux", "Nom d'un produit du catalogue.", "Product"),
        Column("quantity_kg", "Quantité (kg)", ("quantité", "kg", "poids", "poids (kg)",
                                                "quantity kg", "quantity"),
               "number", True, "120,5", "Quantité proposée en kilos (virgule décimale).",
               "Quantity (kg)"),
        Column("units", "Unités", ("nombre d'unités", "nb unités", "pièces", "units"),
               "int", False, "",
               "Nombre de pièces ; vide : calculé depuis le poids unitaire du produit.", "Units"),
        Column("harvest_date", "Date de récolte", ("récolte", "récolté le", "harvest date"),
               "date", True, "23/11/2026", "Date de récolte (JJ/MM/AAAA).", "Harvest date"),
        Column("pickup_start", "Début d'enlèvement", ("enlèvement à partir de",
                                                       "début enlèvement", "pickup start"),
               "datetime", True, "24/11/2026 07:00", "Début du créneau d'enlèvement, heure locale.",
               "Pick-up start"),
        Column("pickup_end", "Fin d'enlèvement", ("enlèvement jusqu'à", "fin enlèvement",
                                                   "pickup end"),
               "datetime", True, "24/11/2026 10:00", "Fin du créneau d'enlèvement, heure locale.",
               "Pick-up end"),
        Column("price_per_kg", "Prix au kg (€)", ("prix au kg", "prix/kg", "prix €/kg", "prix",
                                                  "price per kg"),
               "number", True, "1,80", "Prix payé au producteur, en euros par kilo.",
               "Price per kg (€)"),
    ),
    "volunteers": (
        Column("email", "E-mail", ("email", "courriel", "mail", "adresse e-mail",
                                   "adresse électronique"),
               "text", True, "camille@exemple.fr",
               "Adresse e-mail : identifie le bénévole d'un import à l'autre.", "E-mail"),
        Column("full_name", "Nom", ("nom complet", "prénom nom", "nom prénom", "nom et prénom",
                                    "full name", "name"),
               "text", True, "Camille Martin", "Nom affiché du bénévole.", "Name"),
        Column("home_area", "Secteur", ("quartier", "commune", "zone", "secteur d'habitation",
                                        "home area"),
               "text", True, "Marseille 13e", "Où habite le bénévole (quartier ou commune).",
               "Home area"),
        Column("lat", "Latitude", ("lat",), "number", True, "43,35",
               "Latitude du domicile (approximative suffit).", "Latitude"),
        Column("lon", "Longitude", ("lon", "lng"), "number", True, "5,43",
               "Longitude du domicile.", "Longitude"),
        Column("vehicle_kind", "Véhicule", ("type de véhicule", "vehicle", "vehicle kind"),
               "vehicle", False, "voiture",
               "aucun, voiture, camionnette ou vélo cargo (aucun si vide).", "Vehicle"),
        Column("capacity_kg", "Capacité (kg)", ("capacité", "charge utile", "capacity kg",
                                                "capacity"),
               "number", False, "150", "Charge transportable en kilos.", "Capacity (kg)"),
        Column("refrigerated", "Réfrigéré", ("frigo", "véhicule réfrigéré", "refrigerated"),
               "bool", False, "non", "Véhicule réfrigéré : oui ou non.", "Refrigerated"),
        Column("hours_per_month", "Heures par mois", ("heures/mois", "heures", "hours per month"),
               "number", False, "8", "Heures données par mois.", "Hours per month"),
        Column("max_rounds_per_month", "Tournées max par mois",
               ("tournées par mois", "tournées max", "max rounds per month"),
               "int", False, "4", "Nombre maximal de tournées par mois.", "Max rounds per month"),
        Column("skills", "Compétences", ("savoir-faire", "skills"),
               "skills", False, "logistics:3, accounting:2",
               "Compétences et niveau de 1 à 5, séparées par des virgules.", "Skills"),
        Column("availability", "Disponibilités", ("créneaux", "dispo", "availability"),
               "availability", False, "lun 08:00-12:00, mer 14:00-18:00",
               "Créneaux hebdomadaires, séparés par des virgules.", "Availability"),
        Column("remote_ok", "À distance", ("télétravail", "distanciel", "remote", "remote ok"),
               "bool", False, "non", "Peut aider à distance : oui ou non.", "Remote"),
        Column("max_km", "Distance max (km)", ("km max", "distance maximale", "rayon (km)",
                                               "max km"),
               "number", False, "10", "Distance maximale acceptée depuis le domicile.",
               "Max distance (km)"),
    ),
}


# What each column holds, in English (the values a cell takes stay French where the reader
# expects French words: "oui", "voiture", "légumes", ...).
HELP_EN: dict[tuple[Kind, str], str] = {
    ("households", "reference"): "Stable identifier of the household in your association "
    "(letters, digits, . _ -); importing the same file again updates these households instead "
    "of creating new ones.",
    ("households", "contact_name"): "Person to contact for the household.",
    ("households", "phone"): "Phone number.",
    ("households", "address"): "The household's address.",
    ("households", "adults"): "Number of adults (at least 1).",
    ("households", "children"): "Number of children aged 3 and over (0 when empty).",
    ("households", "infants"): "Number of children under 3 (0 when empty).",
    ("households", "neighbourhood_id"): "Name or official code of the priority neighbourhood "
    "(QPV) in your territory.",
    ("households", "distribution_point_id"): "Name of one of your association's distribution "
    "points.",
    ("households", "excluded_products"): "Catalogue products never to put in the basket, "
    "separated by commas.",
    ("households", "excluded_categories"): "Excluded categories, in French: légumes, fruits, "
    "œufs, produits laitiers, céréales, légumineuses.",
    ("households", "referral_reason"): "Reason, in French: perte d'emploi, famille "
    "monoparentale, étudiant, retraité à faible revenu, santé, logement, autre.",
    ("households", "valid_until"): "End date of the referral (DD/MM/YYYY).",
    ("households", "consent_date"): "Date the household consented to the processing of its "
    "data.",
    ("households", "last_contact_date"): "Date of the last contact with the household.",
    ("lots", "farmer_id"): "Name or SIRET of one of your team's farmers.",
    ("lots", "product_id"): "Name of a catalogue product.",
    ("lots", "quantity_kg"): "Quantity offered in kilos (decimal comma accepted).",
    ("lots", "units"): "Number of pieces; empty: computed from the product's unit weight.",
    ("lots", "harvest_date"): "Harvest date (DD/MM/YYYY).",
    ("lots", "pickup_start"): "Start of the pick-up window, local time.",
    ("lots", "pickup_end"): "End of the pick-up window, local time.",
    ("lots", "price_per_kg"): "Price paid to the farmer, in euros per kilo.",
    ("volunteers", "email"): "E-mail address: identifies the volunteer from one import to the "
    "next.",
    ("volunteers", "full_name"): "The volunteer's displayed name.",
    ("volunteers", "home_area"): "Where the volunteer lives (neighbourhood or town).",
    ("volunteers", "lat"): "Latitude of the home (approximate is enough).",
    ("volunteers", "lon"): "Longitude of the home.",
    ("volunteers", "vehicle_kind"): "In French: aucun, voiture, camionnette or vélo cargo "
    "(aucun when empty).",
    ("volunteers", "capacity_kg"): "Load the vehicle carries, in kilos.",
    ("volunteers", "refrigerated"): "Refrigerated vehicle: oui or non (yes or no).",
    ("volunteers", "hours_per_month"): "Hours given per month.",
    ("volunteers", "max_rounds_per_month"): "Most rounds per month.",
    ("volunteers", "skills"): "Skills with a level from 1 to 5, separated by commas.",
    ("volunteers", "availability"): "Weekly slots, separated by commas.",
    ("volunteers", "remote_ok"): "Can help remotely: oui or non (yes or no).",
    ("volunteers", "max_km"): "Longest distance accepted from home.",
}
COLUMNS = {kind: tuple(replace(column, help_en=HELP_EN[(kind, column.field)])
                       for column in columns) for kind, columns in COLUMNS.items()}


def header_index(kind: Kind) -> dict[str, Column]:
    """Normalised header or variant -> column."""
    index: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        for name in (column.header, column.header_en, column.field, *column.aliases):
            index[normalise(name)] = column
    return index

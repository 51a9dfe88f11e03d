"""`GET /accents`: the accent catalogue, and the languages voices may be made in.

An accent's `id` is what clone, update, localize and a voice's `accent` take;
the ones marked attachable may be added to a voice (`PATCH /voices/{id}/accents`),
the localizable ones are targets of `POST /voices/localize`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Accent(NamedTuple):
    id: str
    name: str
    locale: str
    is_locale_default: bool
    attachable: bool = True  # may be added to a voice; such accents can be localized to, too
    localizable: bool = True

    @property
    def language(self) -> str:
        return self.locale.split("-")[0]

    def answer(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "locale": self.locale,
            "is_locale_default": self.is_locale_default,
            "is_localizable": self.localizable,
        }


_TARGET = {"attachable": False}  # localize may target it; not added to voices
_NEITHER = {"attachable": False, "localizable": False}
ACCENTS = tuple(
    sorted(
        (
            Accent("australian", "Australian English", "en-AU", True),
            Accent("belgian-french", "Belgian French", "fr-BE", True, **_NEITHER),
            Accent("brazilian-portuguese", "Brazilian Portuguese", "pt-BR", True),
            Accent("british", "British English", "en-GB", True),
            Accent("canadian-english", "Canadian English", "en-CA", True, **_NEITHER),
            Accent("canadian-french", "Canadian French", "fr-CA", True),
            Accent("castilian", "Castilian Spanish", "es-ES", True),
            Accent("central-tamil", "Central Tamil", "ta-IN", True),
            Accent("central-thai", "Central Thai", "th-TH", True),
            Accent("european-portuguese", "European Portuguese", "pt-PT", True, **_TARGET),
            Accent("general-american", "General American English", "en-US", True),
            Accent("high-german", "High German", "de-DE", True),
            Accent("hindi", "Hindi", "hi-IN", True),
            Accent("indian-english", "Indian English", "en-IN", True, **_TARGET),
            Accent("irish", "Irish English", "en-IE", True, **_NEITHER),
            Accent("israeli", "Israeli Hebrew", "he-IL", True),
            Accent("istanbul", "Istanbul Turkish", "tr-TR", True),
            Accent("italian", "Italian", "it-IT", True),
            Accent("japanese", "Japanese", "ja-JP", True),
            Accent("korean", "Korean", "ko-KR", True),
            Accent("mandarin", "Mandarin Chinese", "zh-CN", True),
            Accent("mexican", "Mexican Spanish", "es-MX", True),
            Accent("modern-standard-arabic", "Modern Standard Arabic", "ar-SA", True),
            Accent("new-york", "New York English", "en-US", False, **_NEITHER),
            Accent("new-zealand", "New Zealand English", "en-NZ", True, **_NEITHER),
            Accent("odia", "Odia", "or-IN", True, **_NEITHER),
            Accent("parisian", "Parisian French", "fr-FR", True),
            Accent("peruvian", "Peruvian Spanish", "es-PE", True, **_TARGET),
            Accent("polish", "Polish", "pl-PL", True),
            Accent("randstad", "Randstad Dutch", "nl-NL", True),
            Accent("russian", "Russian", "ru-RU", True),
            Accent("southern-us", "Southern US English", "en-US", False),
            Accent("stockholm", "Stockholm Swedish", "sv-SE", True),
            Accent("telangana", "Telangana Telugu", "te-IN", True),
            Accent("urdu", "Urdu", "ur-PK", True, **_NEITHER),
        )
    )
)
BY_ID = {accent.id: accent for accent in ACCENTS}

# The languages a voice may be made in (clone), and each one's usual locale.
LOCALES = {
    "en": "en-US", "fr": "fr-FR", "de": "de-DE", "es": "es-ES", "pt": "pt-BR", "zh": "zh-CN",
    "ja": "ja-JP", "hi": "hi-IN", "it": "it-IT", "ko": "ko-KR", "nl": "nl-NL", "pl": "pl-PL",
    "ru": "ru-RU", "sv": "sv-SE", "tr": "tr-TR", "tl": "tl-PH", "bg": "bg-BG", "ro": "ro-RO",
    "ar": "ar-SA", "cs": "cs-CZ", "el": "el-GR", "fi": "fi-FI", "hr": "hr-HR", "ms": "ms-MY",
    "sk": "sk-SK", "da": "da-DK", "ta": "ta-IN", "uk": "uk-UA", "hu": "hu-HU", "no": "no-NO",
    "vi": "vi-VN", "bn": "bn-IN", "th": "th-TH", "he": "he-IL", "ka": "ka-GE", "id": "id-ID",
    "te": "te-IN", "gu": "gu-IN", "kn": "kn-IN", "ml": "ml-IN", "mr": "mr-IN", "pa": "pa-IN",
    "or": "or-IN", "ur": "ur-PK",
}  # fmt: skip


def list_accents() -> dict[str, Any]:
    return {"accents": [accent.answer() for accent in ACCENTS]}

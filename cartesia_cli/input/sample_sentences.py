# ruff: noqa: RUF001 -- the punctuation of other scripts, written as they write it
"""What a voice says when it is tried with no text of the user's: one short sentence per language.

A voice is heard best in its own language, so `voices try` and `voices list
--try` pick the sentence by the voice's language (`en`, or a locale such as
`pt-BR`); a language without a sentence here is tried in English.
"""

from __future__ import annotations

import hashlib
import json

ENGLISH = "en"
# One short, neutral line each: a greeting and a few words, enough to hear the voice.
SENTENCES: dict[str, str] = {
    "en": "Hello! This is how my voice sounds.",
    "fr": "Bonjour ! Voici comment sonne ma voix.",
    "de": "Hallo! So klingt meine Stimme.",
    "es": "¡Hola! Así suena mi voz.",
    "pt": "Olá! É assim que soa a minha voz.",
    "zh": "你好！这就是我的声音。",
    "ja": "こんにちは。これが私の声です。",
    "hi": "नमस्ते! मेरी आवाज़ ऐसी है।",
    "it": "Ciao! Ecco come suona la mia voce.",
    "ko": "안녕하세요! 제 목소리는 이렇습니다.",
    "nl": "Hallo! Zo klinkt mijn stem.",
    "pl": "Cześć! Tak brzmi mój głos.",
    "ru": "Привет! Вот так звучит мой голос.",
    "sv": "Hej! Så här låter min röst.",
    "tr": "Merhaba! Sesim böyle duyuluyor.",
    "tl": "Kumusta! Ganito ang tunog ng boses ko.",
    "bg": "Здравейте! Ето как звучи гласът ми.",
    "ro": "Bună! Așa sună vocea mea.",
    "ar": "مرحبًا! هكذا يبدو صوتي.",
    "cs": "Ahoj! Takhle zní můj hlas.",
    "el": "Γεια σας! Έτσι ακούγεται η φωνή μου.",
    "fi": "Hei! Tältä kuulostaa ääneni.",
    "hr": "Bok! Ovako zvuči moj glas.",
    "ms": "Helo! Beginilah bunyi suara saya.",
    "sk": "Ahoj! Takto znie môj hlas.",
    "da": "Hej! Sådan lyder min stemme.",
    "ta": "வணக்கம்! இது என் குரல்.",
    "uk": "Привіт! Ось так звучить мій голос.",
    "hu": "Szia! Így szól a hangom.",
    "no": "Hei! Slik høres stemmen min ut.",
    "vi": "Xin chào! Đây là giọng nói của tôi.",
    "bn": "নমস্কার! এটা আমার কণ্ঠস্বর।",
    "th": "สวัสดี! นี่คือเสียงของฉัน",
    "he": "שלום! כך נשמע הקול שלי.",
    "ka": "გამარჯობა! ასე ჟღერს ჩემი ხმა.",
    "id": "Halo! Beginilah suara saya.",
    "te": "నమస్కారం! ఇది నా గొంతు.",
    "gu": "નમસ્તે! આ મારો અવાજ છે.",
    "kn": "ನಮಸ್ಕಾರ! ಇದು ನನ್ನ ಧ್ವನಿ.",
    "ml": "നമസ്കാരം! ഇതാണ് എന്റെ ശബ്ദം.",
    "mr": "नमस्कार! हा माझा आवाज आहे.",
    "pa": "ਸਤ ਸ੍ਰੀ ਅਕਾਲ! ਇਹ ਮੇਰੀ ਆਵਾਜ਼ ਹੈ।",
    "or": "ନମସ୍କାର! ଏହା ମୋର ସ୍ୱର।",
    "ur": "السلام علیکم! یہ میری آواز ہے۔",
}


def language_of(code: object) -> str:
    """The table's language for a voice's `language` (`en`, `pt-BR`, `pt_br`); English if none.

    Anything else a server might send (no language, a number, an unknown code)
    is English too: a sample is always possible.
    """
    if not isinstance(code, str):
        return ENGLISH
    language = code.strip().replace("_", "-").split("-", 1)[0].casefold()
    return language if language in SENTENCES else ENGLISH


def sentence_for(code: object) -> str:
    """The sample sentence for a voice whose language is `code`."""
    return SENTENCES[language_of(code)]


def table_id() -> str:
    """A short digest of the table: a stored sample of "the default sentence" names it,
    so that a changed sentence is spoken anew rather than replayed."""
    text = json.dumps(SENTENCES, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

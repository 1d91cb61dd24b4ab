"""French text analysis for the lexical side of matching and for readable reasons.

``analyze`` lower-cases, removes elisions (l', d', qu'…), drops stop words, stems with
the Snowball French stemmer (PyStemmer) and strips accents from stems, so that
"trésorerie", "tresorier" and "Trésoriers" meet on a common form.

Example:
    >>> analyze("Quelqu'un pour tenir la trésorerie des associations")
    ['tresorer', 'associ']
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)

STOPWORDS = frozenset(
    [
        "a",
        "à",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "cet",
        "cette",
        "ceci",
        "cela",
        "ça",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "elles",
        "en",
        "et",
        "eux",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "lui",
        "ma",
        "mais",
        "me",
        "même",
        "mes",
        "moi",
        "mon",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "où",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "quoi",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "y",
        "est",
        "sont",
        "être",
        "été",
        "avoir",
        "ai",
        "as",
        "avons",
        "avez",
        "ont",
        "eu",
        "suis",
        "es",
        "sommes",
        "êtes",
        "fait",
        "faire",
        "peut",
        "peuvent",
        "plus",
        "moins",
        "très",
        "bien",
        "aussi",
        "ainsi",
        "comme",
        "si",
        "sans",
        "sous",
        "entre",
        "vers",
        "chez",
        "dont",
        "donc",
        "car",
        "tout",
        "tous",
        "toute",
        "toutes",
        "autre",
        "autres",
        "quelque",
        "quelques",
        "quelqu",
        "chaque",
        "cas",
        "fois",
        "deux",
        "trois",
        "ans",
        "an",
        "etc",
        "non",
        "oui",
        "déjà",
        "encore",
        "alors",
        "après",
        "avant",
        "depuis",
        "pendant",
        "lors",
        "afin",
        "mieux",
        "beaucoup",
        "peu",
        "trop",
        "leurs",
        "cela",
        "celle",
        "celui",
        "ceux",
        "celles",
        "ici",
        "là",
        "dire",
        "voir",
        "aller",
        "venir",
        "avoir",
        "prendre",
        "mettre",
        "donner",
        "pouvoir",
        "vouloir",
        "souhaite",
        "souhaitons",
        "cherche",
        "cherchons",
        "recherche",
        "recherchons",
        "besoin",
        "besoins",
        "quelqu'un",
        "personne",
        "personnes",
        "aider",
        "aide",
        "aidez",
        "nous",
        "notre",
        "projet",
        "projets",
        "association",
    ]
)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


_STOP_PLAIN = frozenset(strip_accents(w) for w in STOPWORDS)


def tokens(text: str) -> list[str]:
    """Lower-cased words without elisions and stop words (surface forms, accents kept)."""
    text = _ELISION.sub(" ", text.lower())
    out = []
    for word in _WORD.findall(text):
        for part in word.split("-"):
            if len(part) > 1 and strip_accents(part) not in _STOP_PLAIN:
                out.append(part)
    return out


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return strip_accents(_stemmer().stemWord(word))


def analyze(text: str) -> list[str]:
    """Stemmed, accent-free content words of a French text (order kept, repeats kept)."""
    return [stem(t) for t in tokens(text)]


def match_key(stemmed: str) -> str:
    """A looser key for overlap: stems cut at 6 letters ("tresorer"/"tresori" -> "tresor")."""
    return stemmed[:6]


def keys(text: str) -> set[str]:
    return {match_key(s) for s in analyze(text)}


def overlap(query: str, candidate: str) -> float:
    """Share of the query's content words found in the candidate, in [0, 1]."""
    q = keys(query)
    return len(q & keys(candidate)) / len(q) if q else 0.0


def shared_words(query: str, candidate: str, limit: int = 3) -> list[str]:
    """Words of ``candidate`` (surface form) that also occur, stemmed, in ``query``."""
    wanted = keys(query)
    seen: set[str] = set()
    out: list[str] = []
    for tok in tokens(candidate):
        s = match_key(stem(tok))
        if s in wanted and s not in seen:
            seen.add(s)
            out.append(tok)
            if len(out) == limit:
                break
    return out


def lexical_tokens(text: str) -> list[str]:
    """Tokens of the lexical (BM25) channel: stems cut to 6 letters, repeats kept."""
    return [match_key(stem(t)) for t in tokens(text)]


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
# sentences about later stages ("Plus tard, il faudra une salle…") describe the next need
_FUTURE = re.compile(
    r"^(?:plus tard|à terme|a terme|ensuite|par la suite|dans un second temps|l'an prochain|l’an prochain|demain)\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """Split a text into sentences (on . ! ? ; followed by a space)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 2]


def is_about_later(sentence: str) -> bool:
    """Whether a sentence talks about a later stage ("Plus tard, …", "À terme, …")."""
    return bool(_FUTURE.match(sentence.strip()))

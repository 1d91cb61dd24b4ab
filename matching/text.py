"""French text analysis for the lexical side of matching and for readable reasons.

``lexical_tokens`` lower-cases, removes elisions (l', d', qu'…), drops stop words, stems with
the Snowball French stemmer (PyStemmer) and strips accents from stems, so that
"trésorerie", "tresorier" and "Trésoriers" meet on a common form.

Example:
    >>> lexical_tokens("Quelqu'un pour tenir la trésorerie des associations")
    ['ten', 'tresor', 'associ']
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
    return list(_tokens(text))


@lru_cache(maxsize=50_000)  # the read path explains the same profiles and needs again and again
def _tokens(text: str) -> tuple[str, ...]:
    text = _ELISION.sub(" ", text.lower())
    return tuple(part for word in _WORD.findall(text) for part in word.split("-") if len(part) > 1 and not _is_stop(part))


@lru_cache(maxsize=200_000)
def _is_stop(word: str) -> bool:
    return strip_accents(word) in _STOP_PLAIN


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return strip_accents(_stemmer().stemWord(word))


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """Dictionary form of a French word (``simplemma``): "appliquent" -> "appliquer"."""
    import simplemma

    return simplemma.lemmatize(word, lang="fr")


def match_key(stemmed: str) -> str:
    """A looser key for overlap: stems cut at 6 letters ("tresorer"/"tresori" -> "tresor")."""
    return stemmed[:6]


@lru_cache(maxsize=200_000)
def lexical_key(word: str) -> str:
    """The key of a word for lexical matching: Snowball stem cut to 6 letters.

    The cut joins derived forms the stemmer keeps apart ("trésorerie", "trésorier").
    Lemmatising first (``lemma``) was measured and did not help: docs/quality.md.
    """
    return match_key(stem(word))


def keys(text: str) -> set[str]:
    return set(_keys(text))


@lru_cache(maxsize=50_000)
def _keys(text: str) -> frozenset[str]:
    return frozenset(lexical_key(t) for t in _tokens(text))


@lru_cache(maxsize=1)
def not_reasons() -> frozenset[str]:
    """Stems of the words never given as a reason (``data/text/not_reasons_fr.txt``: filler,
    frequent verbs, time, first person)."""
    from matching.settings import PACKAGE_DATA

    lines = (PACKAGE_DATA / "text" / "not_reasons_fr.txt").read_text(encoding="utf-8").splitlines()
    words = [w.strip() for w in lines if w.strip() and not w.startswith("#")]
    return frozenset(lexical_key(t) for w in words for t in _tokens(w)) | frozenset(strip_accents(w.lower()) for w in words)


def shared_words(query: str, candidate: str, limit: int = 3) -> list[str]:
    """Words of ``candidate`` (surface form) that also occur, stemmed, in ``query``: the words a
    person would accept as a reason (at least three letters, none of ``not_reasons``)."""
    wanted = _keys(query) - not_reasons()
    seen: set[str] = set()
    out: list[str] = []
    for tok in _tokens(candidate):
        s = lexical_key(tok)
        if s in wanted and s not in seen and len(tok) > 2:
            seen.add(s)
            out.append(tok)
            if len(out) == limit:
                break
    return out


def lexical_tokens(text: str) -> list[str]:
    """Tokens of the lexical (BM25) channel (``lexical_key`` of each word), repeats kept."""
    return [lexical_key(t) for t in _tokens(text)]


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


# a holder states what they ask for with a wish in the conditional ("nous voudrions", "il
# nous faudrait", "une formation nous aiderait") or a word of need or lack
_CONDITIONAL = re.compile(r"\b\w{2,}(?:rais|rait|rions|riez|raient)\b", re.IGNORECASE)
_NOT_CONDITIONAL = frozenset({"frais", "portrait", "retrait", "extrait", "attrait", "abstrait", "distrait", "souvent"})
_NEED_CUE = re.compile(
    r"\b(?:besoin|il (?:nous |leur )?faut|manqu\w*|cherch\w*|recherch\w*|demand\w*|exig\w*|nécessit\w*|souhait\w*|"
    r"aimer\w*|voudr\w*)\b",
    re.IGNORECASE,
)


def is_request(sentence: str) -> bool:
    """Whether a sentence asks for something (a wish, a need, a lack), as holders do when they
    say what their project needs, rather than describing the project.

    Example:
        >>> is_request("Nous voudrions être accompagnés pour mener un essai.")
        True
        >>> is_request("Nous voulons créer des séances sportives dans les parcs.")
        False
    """
    if _NEED_CUE.search(sentence):
        return True
    return any(m.group(0).lower() not in _NOT_CONDITIONAL for m in _CONDITIONAL.finditer(sentence))


_SUBJECT = re.compile(r"^(?:ils/elles|elles/ils|il/elle|elle/il|ils|elles|il|elle|je|j['’]|nous|on)\s*", re.IGNORECASE)
_CONJUGATED = re.compile(r"(?:ent|ons|ez|e|es|s|t|ont|it|is)$")
_INFINITIVE = re.compile(r"(?:er|ir|re|oir)$")


def verb_phrase(sentence: str) -> str:
    """Rewrite a profile sentence as a skill phrase: subject dropped, verb in the infinitive.

    Profiles say "je répare des vélos" or "Ils/elles coordonnent les équipes"; calls for
    skills say "réparer des vélos", "coordonner les équipes". Used to build the query side
    of the adapter's training pairs.

    Example:
        >>> verb_phrase("Ils/elles coordonnent les opérations de production.")
        'coordonner les opérations de production'
    """
    text = sentence.strip().rstrip(".;!?")
    match = _SUBJECT.match(text)
    words = text[match.end() :].split() if match else text.split()
    if not words:
        return text
    start = 0 if match else None
    if start is None:  # a noun-phrase subject: find the first conjugated verb
        for i, word in enumerate(words[1:10], start=1):
            w = word.lower().strip(",;:")
            lem = lemma(w)
            if lem != w and _INFINITIVE.search(lem) and _CONJUGATED.search(w):
                start = i
                break
    if start is None:
        return text
    head = lemma(words[start].lower().strip(",;:"))
    return " ".join([head, *words[start + 1 :]])

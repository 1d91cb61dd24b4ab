"""Settings, read from the environment (prefix ``MAILLAGE_``) or passed explicitly.

| variable | default | meaning |
|---|---|---|
| ``MAILLAGE_DATA_DIR`` | ``./var`` | runtime files: SQLite store, index files |
| ``MAILLAGE_DATABASE_URL`` | ``sqlite:///<data dir>/maillage.sqlite`` | any SQLAlchemy URL (PostgreSQL in production) |
| ``MAILLAGE_ENCODER`` | ``use-multilingual`` | ``use-multilingual``, ``minilm`` or a sentence-transformers name/path |
| ``MAILLAGE_WEIGHTS`` | packaged ``data/weights.json`` | score weights (JSON) |
| ``MAILLAGE_THREADS`` | ``2`` | requests served at once by the service (the others wait in line) |
| ``MAILLAGE_LOG_FORMAT`` | ``text`` | ``json``: one JSON object per log line (service) |
| ``MAILLAGE_INDEX`` | ``auto`` | ``auto`` (exact up to the threshold, then IVF-SQ8), ``flat`` or ``ivf-sq8`` |
| ``MAILLAGE_INDEX_THRESHOLD`` | ``20000`` | vectors past which ``auto`` turns approximate |
| ``MAILLAGE_INDEX_NLIST`` / ``MAILLAGE_INDEX_NPROBE`` | from the size | IVF lists / lists visited per search |
| ``MAILLAGE_MAX_BODY_BYTES`` | ``262144`` (256 KiB) | largest request body the service reads (API and web forms); more is a 413 |
| ``MAILLAGE_EVENT_SKEW_SECONDS`` | ``300`` | how far after "now" an event may be dated (clocks differ a little) |
| ``MAILLAGE_LINK_SECRET`` | generated into ``<data dir>/link-secret`` | key that signs the one-time answer links sent to members |
| ``MAILLAGE_ANSWER_LINK_DAYS`` | ``14`` | how long an answer link stays valid |
| ``MAILLAGE_FEED_POLL_SECONDS`` | ``0.2`` | how often a serving process polls the store's change log (PostgreSQL also wakes it at once with ``NOTIFY``) |
| ``MAILLAGE_FEED_MAX_LAG_SECONDS`` | ``30`` | ``/health`` answers 503 when the oldest change not yet applied is older than this |
| ``MAILLAGE_FEED_RETENTION_HOURS`` | ``168`` | change-log entries older than this are deleted (a process whose snapshot is older is checked against the store and rebuilt) |
| ``MAILLAGE_SNAPSHOT_SECONDS`` | ``60`` | how often a serving process saves the indexes that changed (with the log position they reflect) |
| ``MAILLAGE_SMTP_URL`` | none | where ``maillage notify`` sends e-mail: ``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://…`` |
| ``MAILLAGE_MAIL_FROM`` | ``Maillage <maillage@localhost>`` | the sender of the e-mails |
| ``MAILLAGE_PUBLIC_URL`` | ``http://127.0.0.1:8000`` | the service's public address (links in e-mails) |
| ``MAILLAGE_NOTIFY_PER_MINUTE`` | ``30`` | at most this many e-mails a minute |
| ``MAILLAGE_DIGEST_DAYS`` | ``7`` | days between two digests to the same person (weekly) |

Two instances with different data dirs (and URLs) never touch each other's files.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings.index import IndexPolicy

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"


@cache
def package_json(name: str) -> Any:
    """A JSON file of the package's data (``data/<name>``), read once per process; shared: read-only."""
    return json.loads((PACKAGE_DATA / name).read_text(encoding="utf-8"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILLAGE_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Dossier des fichiers d'exécution")
    database_url: str = Field(default="", description="URL SQLAlchemy; vide = SQLite dans data_dir")
    encoder: str = Field(default="use-multilingual", description="Encodeur de textes")
    weights: Path = Field(default=PACKAGE_DATA / "weights.json", description="Fichier des poids du score")
    max_k: int = Field(default=50, ge=1, le=1000)
    threads: int = Field(
        default=2,
        ge=1,
        le=256,
        description="Requêtes traitées en même temps par le service (les autres attendent leur tour)",
    )
    log_format: Literal["text", "json"] = Field(default="text", description="Format du journal du service")
    index: Literal["auto", "flat", "ivf-sq8"] = Field(default="auto", description="Structure de l'index vectoriel")
    index_threshold: int = Field(default=20_000, ge=1, description="Taille au-delà de laquelle l'index auto devient approché")
    index_nlist: int | None = Field(default=None, ge=1, description="Listes de l'index IVF (défaut : racine de la taille)")
    index_nprobe: int | None = Field(default=None, ge=1, description="Listes visitées par recherche (défaut : nlist / 16)")
    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1,
        description="Taille maximale d'un corps de requête en octets (API et formulaires) ; au-delà : 413",
    )

    event_skew_seconds: int = Field(
        default=300, ge=0, le=86_400, description="Un événement peut être daté jusqu'à ce nombre de secondes après maintenant"
    )
    link_secret: SecretStr | None = Field(
        default=None, description="Clé de signature des liens de réponse (défaut : générée dans data_dir/link-secret)"
    )
    answer_link_days: int = Field(default=14, ge=1, le=365, description="Durée de validité d'un lien de réponse, en jours")
    feed_poll_seconds: float = Field(default=0.2, gt=0, le=60, description="Intervalle de lecture du journal des changements")
    feed_max_lag_seconds: float = Field(default=30.0, gt=0, description="Retard au-delà duquel /health répond 503")
    feed_retention_hours: float = Field(default=168.0, gt=0, description="Durée de conservation du journal des changements")
    snapshot_seconds: float = Field(default=60.0, gt=0, description="Intervalle des sauvegardes des index modifiés")
    smtp_url: SecretStr | None = Field(
        default=None,
        description="Serveur d'envoi des e-mails : smtp://[utilisateur:mot de passe@]hôte[:port][?starttls=1] ou smtps://…",
    )
    mail_from: str = Field(default="Maillage <maillage@localhost>", max_length=300, description="Expéditeur des e-mails")
    public_url: str = Field(
        default="http://127.0.0.1:8000", max_length=300, description="Adresse publique du service (liens des e-mails)"
    )
    notify_per_minute: float = Field(default=30.0, gt=0, le=100_000, description="E-mails envoyés par minute au plus")
    digest_days: int = Field(default=7, ge=1, le=365, description="Jours entre deux points envoyés à une même personne")

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'maillage.sqlite'}"
        return self

    def index_policy(self) -> IndexPolicy:
        return IndexPolicy(kind=self.index, threshold=self.index_threshold, nlist=self.index_nlist, nprobe=self.index_nprobe)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

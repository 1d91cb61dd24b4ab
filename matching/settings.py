"""Settings, read from the environment (prefix ``MAILLAGE_``) or passed explicitly.

| variable | default | meaning |
|---|---|---|
| ``MAILLAGE_DATA_DIR`` | ``./var`` | runtime files: SQLite store, index files |
| ``MAILLAGE_DATABASE_URL`` | ``sqlite:///<data dir>/maillage.sqlite`` | any SQLAlchemy URL (PostgreSQL in production) |
| ``MAILLAGE_ENCODER`` | ``use-multilingual`` | ``use-multilingual``, ``minilm`` or a sentence-transformers name/path |
| ``MAILLAGE_WEIGHTS`` | packaged ``data/weights.json`` | score weights (JSON) |

Two instances with different data dirs (and URLs) never touch each other's files.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILLAGE_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Dossier des fichiers d'exécution")
    database_url: str = Field(default="", description="URL SQLAlchemy; vide = SQLite dans data_dir")
    encoder: str = Field(default="use-multilingual", description="Encodeur de textes")
    weights: Path = Field(default=PACKAGE_DATA / "weights.json", description="Fichier des poids du score")
    max_k: int = Field(default=50, ge=1, le=1000)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'maillage.sqlite'}"
        return self

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

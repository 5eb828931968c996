"""Typed settings and the folders crm keeps its files in.

Settings come, strongest first, from the command line, the environment (``CRM_*``),
the TOML file (``config.toml`` in the platformdirs config folder, or the file named
by ``CRM_CONFIG``), and the defaults below.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
import pydantic_settings
from pydantic import Field, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "crm"
DATABASE_FILE = "crm.sqlite3"


def data_dir() -> Path:
    """The folder for the default database and backups (XDG_DATA_HOME on Linux)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def config_file() -> Path:
    """The settings file: ``CRM_CONFIG`` if set, else config.toml in the config folder."""
    named = os.environ.get("CRM_CONFIG")
    if named:
        return Path(named).expanduser()
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml"


def log_dir() -> Path:
    """The folder for log files."""
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def _country_from_locale() -> str | None:
    """The country part of the POSIX locale (``de_DE.UTF-8`` gives ``DE``), if any."""
    for name in ("LC_ALL", "LC_TELEPHONE", "LANG"):
        value = os.environ.get(name, "")
        language, _, rest = value.partition("_")
        country = rest[:2]
        if language and len(country) == 2 and country.isalpha():
            return country.upper()
    return None


def _currency_from_locale() -> str:
    """The currency of the locale's country (de_DE gives EUR, en_US gives USD), else EUR."""
    country = _country_from_locale()
    if country:
        from babel.numbers import get_territory_currencies

        found = get_territory_currencies(country)
        if found:
            return found[0]
    return "EUR"


class Settings(BaseSettings):
    """Everything a user may set; each field's env variable is ``CRM_`` + its name."""

    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database, e.g. postgresql+psycopg://host/crm.",
    )
    db: str | None = Field(default=None, description="Path of a SQLite database file, or a database URL.")
    user: str | None = Field(
        default=None, description="Username of the acting user; defaults to the OS login."
    )
    default_country: str | None = Field(
        default_factory=_country_from_locale,
        description="ISO country code used to read phone numbers written without +.",
    )
    default_currency: str = Field(
        default_factory=_currency_from_locale,
        description="ISO 4217 currency of new deals, products and orders when none is given.",
    )
    business_hours: str | None = Field(
        default=None,
        description='SLA clock hours, like "09:00-17:00"; unset, the clock runs day and night.',
    )
    business_days: str = Field(
        default="mon-fri",
        description='Days the SLA clock runs with business hours, like "mon-fri" or "mon,wed,fri".',
    )
    timezone: str | None = Field(
        default=None,
        description="IANA time zone of the business hours, like Europe/Berlin; default: this machine's.",
    )
    ticket_assignment: str = Field(
        default="none",
        description="How new tickets find an agent: none, round_robin or least_open (active service users).",
    )
    theme: str | None = Field(default=None, description="The TUI's colour theme, as last chosen in the app.")
    desk_panels: list[str] | None = Field(
        default=None, description="The desk's panels, in order; unset, the panels of the user's role."
    )
    keymap: dict[str, str] = Field(
        default_factory=dict,
        description='Key bindings by id, like {"customers.new" = "ctrl+n"}; the help screen lists the ids.',
    )
    page_size: int = Field(default=50, ge=1, le=10_000, description="Rows per page in lists.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

    def database_target(self) -> tuple[str, bool]:
        """The database URL to open, and whether it is the default location.

        An explicit ``db`` path wins over ``database_url``; with neither, the default
        file in the data folder is used (and its folder made, which an explicit path
        never is: a typo in a path must not silently create a new database elsewhere).
        """
        if self.db:
            if "://" in self.db:
                return self.db, False
            return sqlite_url(Path(self.db).expanduser()), False
        if self.database_url:
            return self.database_url, False
        return sqlite_url(data_dir() / DATABASE_FILE), True

    def acting_username(self) -> str:
        """The user crm acts as: the ``user`` setting, else the OS login name."""
        return (self.user or getpass.getuser()).strip()


def sqlite_url(path: Path) -> str:
    """A SQLAlchemy URL for a SQLite file at ``path``."""
    return f"sqlite:///{path.absolute()}"


class SettingsError(ValueError):
    """The settings cannot be read: the settings file is not TOML (or cannot be opened),
    or a value in it, in a ``CRM_*`` variable or on the command line is not one the
    setting takes. The message is one line that names where the value came from."""


def load_settings(**overrides: object) -> Settings:
    """Settings from all sources, with ``overrides`` (command-line values) on top;
    SettingsError when they cannot be read."""
    # Any: the values are checked by Settings, which is what it is for.
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    if "db" in given:
        given["db"] = str(given["db"])  # a Path or a URL
    path = config_file()
    try:
        return Settings(**given)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"the settings file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"the settings file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise SettingsError(f"cannot read the settings file {path}: {exc.strerror}") from None
    except ValidationError as exc:
        problems = [_bad_setting(error, path, given) for error in exc.errors()]
        raise SettingsError("; ".join(problems)) from None
    except pydantic_settings.SettingsError as exc:  # a CRM_* variable that is not JSON where JSON is due
        raise SettingsError(str(exc)) from None


def _bad_setting(error: ErrorDetails, path: Path, given: dict[str, object]) -> str:
    """One problem of a ValidationError, naming the setting and where its value came from."""
    name = str(error["loc"][0]) if error["loc"] else "settings"
    variable = f"CRM_{name.upper()}"
    if name in given:
        source = "given on the command line"
    elif variable in os.environ:
        source = f"from {variable}"
    else:
        source = f"in {path}"
    return f"setting {name} ({source}): {error['msg']}"


def save_setting(name: str, value: object) -> None:
    """Write one setting to the settings file, keeping the rest of it (comments too)."""
    import tomlkit

    path = config_file()
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    document[name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
    temporary.replace(path)

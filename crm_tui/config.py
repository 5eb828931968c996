"""Typed settings and the folders crm keeps its files in.

Settings come, strongest first, from the command line, the environment (``CRM_*``),
the TOML file (``config.toml`` in the platformdirs config folder, or the file named
by ``CRM_CONFIG``), and the defaults below.
"""

from __future__ import annotations

import getpass
import os
import stat
import tomllib
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import platformdirs
import pydantic_settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError
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


class PersonalSettings(BaseModel):
    """The choices one crm user makes in the desk, kept apart from those of other users
    of the same settings file (``crm --user sara`` on a shared account gets Sara's desk).

    They live in the settings file under ``[users.NAME]``, not in the database: they are
    the look of one person's desk on one machine, not the team's records, so they need
    no audit entry, no migration and no write permission (a viewer may choose panels too),
    and tomlkit keeps the comments of a file people also edit by hand."""

    # Anything else in a user's table is kept so that the desk can say it is not a
    # personal setting, rather than refusing to start over it.
    model_config = ConfigDict(extra="allow")

    theme: str | None = Field(default=None, description="The user's colour theme.")
    desk_panels: list[str] | None = Field(default=None, description="The user's desk panels, in order.")


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
    theme: str | None = Field(
        default=None, description="The TUI's colour theme for users who have not chosen their own."
    )
    desk_panels: list[str] | None = Field(
        default=None,
        description="The desk's panels, in order, for users who have not chosen their own; "
        "unset, the panels of the user's role.",
    )
    users: dict[str, PersonalSettings] = Field(
        default_factory=dict,
        description="Each crm user's own choices, as [users.NAME] tables: theme and desk_panels.",
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

    def personal(self, username: str) -> PersonalSettings:
        """A user's own choices; what they have not chosen is the file's top-level
        ``theme`` and ``desk_panels`` (where files before per-user choices kept them)."""
        own = self.users.get(username) or PersonalSettings()
        return PersonalSettings(
            theme=own.theme if own.theme is not None else self.theme,
            desk_panels=own.desk_panels if own.desk_panels is not None else self.desk_panels,
        )

    def remember(self, username: str, name: str, value: object) -> None:
        """Take one of a user's own choices into these settings (``save_setting`` writes it)."""
        own = self.users.setdefault(username, PersonalSettings())
        setattr(own, name, value)


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
    entry = ".".join(str(part) for part in error["loc"]) or name  # users.sara.theme, not users
    if name in given:
        source = "given on the command line"
    else:
        source = setting_source(name)
        source = f"from {source}" if source.startswith("CRM_") else f"in {source}"
    return f"setting {entry} ({source}): {error['msg']}"


def setting_source(name: str) -> str:
    """Where a setting not given on the command line comes from: its ``CRM_*`` variable
    if set, else the settings file."""
    variable = f"CRM_{name.upper()}"
    return variable if variable in os.environ else str(config_file())


def save_setting(name: str, value: object, *, user: str | None = None) -> None:
    """Write one setting to the settings file, keeping the rest of it (comments too):
    top-level, or with ``user`` in that user's ``[users.NAME]`` table.

    SettingsError when the file cannot be parsed or has no room for the user's table;
    OSError when it cannot be written."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = config_file()
    # A settings file kept elsewhere and linked here (dotfiles) stays a link.
    path = path.resolve() if path.is_symlink() else path
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except TOMLKitError as exc:
        raise SettingsError(f"the settings file {path} is not valid TOML: {exc}") from None
    place: MutableMapping[str, Any] = document
    if user is not None:
        place = _table(_table(document, "users", path, super_table=True), user, path)
    place[name] = value
    _replace(path, tomlkit.dumps(document))


def _table(
    document: MutableMapping[str, Any], key: str, path: Path, *, super_table: bool = False
) -> MutableMapping[str, Any]:
    """The table ``key`` of a TOML document, made if missing."""
    import tomlkit

    found = document.get(key)
    if found is None:
        # A super table is written as [users.sara] alone, without an empty [users] above.
        found = document[key] = tomlkit.table(is_super_table=super_table)
    if not isinstance(found, MutableMapping):
        raise SettingsError(f"{key} in the settings file {path} is not a table")
    return found


def _replace(path: Path, text: str) -> None:
    """Write ``text`` as the file at ``path`` in one step, keeping the file's permissions
    (a settings file holding a database password may be its owner's only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        if path.exists():
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)

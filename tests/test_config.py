"""Settings: typed fields from the environment and .env, errors that name the variable,
production safeguards, secrets hidden from repr(), and hostile .env files."""

import datetime
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import pytest

from brace import Settings
from brace.config import (
    EnvVar,
    SettingsError,
    collect_settings,
    current_env,
    production_problems,
    read_env_file,
    secret_key_problem,
)

GOOD_SECRET = "q8Zr3vN1xT5bLk0PmW7yHc2sJd9fGa4E"


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Limits(msgspec.Struct):
    burst: int
    rate: float


@dataclass
class Point:
    x: int
    y: int


class AppSettings(Settings):
    env_prefix = "APP_"
    database_url: str = "sqlite+aiosqlite:///./app.db"
    port: int = 8000
    ratio: float = 0.5
    tags: list[str] = []  # noqa: RUF012
    ports: set[int] = set()  # noqa: RUF012
    mode: Literal["fast", "safe"] = "safe"
    color: Color = Color.RED
    timeout: float | None = None
    data_dir: Path = Path("data")
    limits: Limits | None = None
    origin: Point | None = None
    mapping: dict[str, int] = {}  # noqa: RUF012
    api_token: str = ""
    plain_url: Annotated[str, EnvVar("DATABASE_URL")] = ""


class Required(Settings):
    name: str


def make(cls: type[Settings] = AppSettings, env_file: Path | None = None, **env: str) -> Settings:
    return cls(_environ=env, _env_file=env_file)


def problems(cls: type[Settings] = AppSettings, **env: str) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        cls(_environ=env, _env_file=None)
    return caught.value.problems


# -- values ------------------------------------------------------------------------------


def test_defaults_when_nothing_is_set() -> None:
    settings = make()
    assert isinstance(settings, AppSettings)
    assert settings.port == 8000 and settings.env == "dev" and settings.debug is False
    assert settings.allowed_hosts == [] and settings.data_dir == Path("data")


def test_values_are_typed_from_the_environment() -> None:
    settings = make(
        APP_PORT="8080",
        APP_RATIO="1e-3",
        APP_DEBUG="Yes",
        APP_TAGS=" a, b ,,c ",
        APP_PORTS="[80, 443]",
        APP_MODE="fast",
        APP_COLOR="blue",
        APP_TIMEOUT="2.5",
        APP_DATA_DIR="/srv/data",
        APP_LIMITS='{"burst": 3, "rate": 1.5}',
        APP_ORIGIN='{"x": 1, "y": 2}',
        APP_MAPPING='{"a": 1}',
        APP_ALLOWED_HOSTS="example.com,www.example.com",
        DATABASE_URL="postgresql://db/x",
        BRACE_ENV="test",
    )
    assert isinstance(settings, AppSettings)
    assert settings.port == 8080 and settings.ratio == 0.001 and settings.debug is True
    assert settings.tags == ["a", "b", "c"] and settings.ports == {80, 443}
    assert settings.mode == "fast" and settings.color is Color.BLUE
    assert settings.timeout == 2.5 and settings.data_dir == Path("/srv/data")
    assert settings.limits == Limits(3, 1.5) and settings.origin == Point(1, 2)
    assert settings.mapping == {"a": 1} and settings.env == "test"
    assert settings.allowed_hosts == ["example.com", "www.example.com"]
    assert settings.plain_url == "postgresql://db/x"


def test_json_lists_and_empty_values() -> None:
    settings = make(APP_TAGS='["x,y", "z"]', APP_TIMEOUT="", APP_PORTS="")
    assert isinstance(settings, AppSettings)
    assert settings.tags == ["x,y", "z"] and settings.timeout is None and settings.ports == set()


@pytest.mark.parametrize("text", ["1", "true", "ON", "yes"])
def test_true_spellings(text: str) -> None:
    assert make(APP_DEBUG=text).debug is True


@pytest.mark.parametrize("text", ["0", "false", "Off", "no"])
def test_false_spellings(text: str) -> None:
    assert make(APP_DEBUG=text).debug is False


def test_precedence_argument_then_environment_then_env_file_then_default(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("APP_PORT=1\nAPP_RATIO=0.25\nAPP_MODE=fast\n")
    settings = AppSettings(
        _environ={"APP_PORT": "2", "APP_RATIO": "0.75"}, _env_file=env_file, port=3
    )
    assert settings.port == 3 and settings.ratio == 0.75 and settings.mode == "fast"
    assert settings.tags == []


def test_mutable_defaults_are_not_shared() -> None:
    first, second = make(), make()
    assert isinstance(first, AppSettings) and isinstance(second, AppSettings)
    first.tags.append("x")
    assert second.tags == [] and AppSettings.tags == []


def test_keyword_arguments_are_checked_too() -> None:
    settings = AppSettings(_environ={}, _env_file=None, port=9, data_dir=Path("/x"), timeout=None)
    assert settings.port == 9 and settings.data_dir == Path("/x")
    with pytest.raises(SettingsError, match="APP_PORT: expected an integer, got 'nine'"):
        AppSettings(_environ={}, _env_file=None, port="nine")
    with pytest.raises(SettingsError, match=r"APP_TAGS: expected a list .* \(passed in code\)"):
        AppSettings(_environ={}, _env_file=None, tags=5)
    with pytest.raises(TypeError, match="has no field"):
        AppSettings(_environ={}, _env_file=None, prot=9)


def test_reads_os_environ_and_dot_env_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("APP_PORT=7000\n")
    monkeypatch.setenv("APP_RATIO", "0.1")
    settings = AppSettings()
    assert isinstance(settings, AppSettings) and settings.port == 7000 and settings.ratio == 0.1


def test_class_level_env_file_none_reads_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoFile(Settings):
        env_file = None
        port: int = 1

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PORT=2\n")
    assert NoFile(_environ={}).port == 1


# -- errors --------------------------------------------------------------------------------


def test_errors_name_the_variable_and_what_was_wrong() -> None:
    found = problems(
        APP_PORT="eighty",
        APP_RATIO="half",
        APP_DEBUG="maybe",
        APP_MODE="slow",
        APP_COLOR="green",
        APP_PORTS="80,http",
        APP_LIMITS="{broken",
        BRACE_ENV="production",
    )
    assert "APP_PORT: expected an integer, got 'eighty' (from the environment)" in found
    assert "APP_RATIO: expected a number, got 'half' (from the environment)" in found
    assert any(p.startswith("APP_DEBUG: expected true or false") for p in found)
    assert any(p.startswith("APP_MODE: expected one of 'fast', 'safe', got 'slow'") for p in found)
    assert any(p.startswith("APP_COLOR: expected one of 'red', 'blue'") for p in found)
    assert any(p.startswith("APP_PORTS: expected a list") and "$[1]" in p for p in found)
    assert any(p.startswith("APP_LIMITS:") and "not valid JSON" in p for p in found)
    assert any(p.startswith("BRACE_ENV: expected one of 'dev', 'test', 'prod'") for p in found)
    assert len(found) == 8  # every bad value at once, not only the first


def test_error_message_lists_each_problem_on_its_own_line() -> None:
    with pytest.raises(SettingsError) as caught:
        make(APP_PORT="eighty")
    assert str(caught.value) == (
        "invalid settings for AppSettings:\n"
        "  APP_PORT: expected an integer, got 'eighty' (from the environment)"
    )
    assert isinstance(caught.value, ValueError)


def test_error_says_which_env_file_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# settings\n\nAPP_PORT=eighty\n")
    with pytest.raises(SettingsError, match=r"got 'eighty' \(from .*\.env, line 3\)"):
        make(env_file=env_file)


def test_required_field() -> None:
    assert problems(Required) == ["NAME: required, but not set (in the environment or .env)"]
    assert make(Required, NAME="x").name == "x"  # type: ignore[attr-defined]


def test_huge_values_are_cut_short_in_messages() -> None:
    (message,) = problems(APP_PORT="9" * 5 + "x" * 100_000)
    assert len(message) < 200 and "(100005 characters)" in message


def test_unicode_and_control_characters_are_escaped_in_messages() -> None:
    (message,) = problems(APP_PORT="八十\n\x1b[31m")
    assert "'八十\\n\\x1b[31m'" in message and "\n" not in message


def test_secret_values_never_appear_in_errors() -> None:
    class Secretive(Settings):
        db_password: int = 0

    (message,) = problems(Secretive, DB_PASSWORD="hunter2-not-a-number")
    assert "hunter2" not in message and "a hidden value" in message


def test_unresolvable_annotation_is_a_clear_type_error() -> None:
    class Broken(Settings):
        value: "NoSuchType"  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(TypeError, match="cannot resolve a field type"):
        Broken(_environ={}, _env_file=None)


def test_env_var_name_must_be_valid() -> None:
    with pytest.raises(ValueError, match="not an environment variable name"):
        EnvVar("BAD NAME")


def test_path_fields_refuse_empty_values() -> None:
    assert problems(APP_DATA_DIR="  ") == [
        "APP_DATA_DIR: expected a path, got an empty value (from the environment)"
    ]


# -- repr ----------------------------------------------------------------------------------


def test_repr_hides_secrets_and_url_passwords() -> None:
    settings = make(
        SECRET_KEY="x" * 40,
        APP_SECRET_KEY="s3cr3t-value-that-is-long-enough-1234",
        APP_API_TOKEN="tok-123",
        APP_DATABASE_URL="postgresql+asyncpg://app:pa55word@db:5432/app",
    )
    text = repr(settings)
    assert "s3cr3t" not in text and "tok-123" not in text and "pa55word" not in text
    assert "secret_key='***'" in text and "api_token='***'" in text
    assert "postgresql+asyncpg://app:***@db:5432/app" in text
    assert str(settings) == text
    assert make().__repr__().count("secret_key=''") == 1  # an empty secret shows it is missing


def test_secret_fields_class_variable() -> None:
    class Custom(Settings):
        secret_fields = frozenset({"salt"})
        salt: str = "pepper"

    assert "pepper" not in repr(Custom(_environ={}, _env_file=None))


# -- production ----------------------------------------------------------------------------


def test_prod_refuses_unsafe_settings() -> None:
    with pytest.raises(SettingsError) as caught:
        make(BRACE_ENV="prod", APP_DEBUG="true", APP_SECRET_KEY="change-me")
    text = str(caught.value)
    assert text.startswith("BRACE_ENV=prod refuses to start with unsafe settings:")
    assert "APP_SECRET_KEY: is a placeholder" in text and "token_urlsafe" in text
    assert "APP_DEBUG: is on" in text and "APP_ALLOWED_HOSTS: is empty" in text


def test_prod_accepts_safe_settings() -> None:
    settings = make(BRACE_ENV="prod", APP_SECRET_KEY=GOOD_SECRET, APP_ALLOWED_HOSTS="example.com")
    assert settings.env == "prod" and production_problems(settings) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is missing"),
        ("change-me", "is a placeholder"),
        ("django-insecure-abcdefghijklmnopqrstuvwxyz0123456789", "is a placeholder"),
        ("secret", "is a placeholder"),
        ("abc123", "is too short (6 characters"),
        ("ab" * 20, "repeats too few characters"),
        (GOOD_SECRET, None),
    ],
)
def test_secret_key_strength(value: str, problem: str | None) -> None:
    found = secret_key_problem(value)
    assert found is None if problem is None else found is not None and found.startswith(problem)


def test_collect_settings_reports_instead_of_raising() -> None:
    with collect_settings() as created:
        settings = make(BRACE_ENV="prod")
    assert created == [settings]
    names = [name for name, _ in production_problems(settings)]
    assert names == ["APP_SECRET_KEY", "APP_ALLOWED_HOSTS"]
    with pytest.raises(SettingsError):
        make(BRACE_ENV="prod")  # enforced again outside the block


def test_current_env(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    assert current_env({}, env_file) == "dev"
    env_file.write_text("BRACE_ENV=prod\n")
    assert current_env({}, env_file) == "prod"
    assert current_env({"BRACE_ENV": "test"}, env_file) == "test"
    assert current_env({}, None) == "dev"
    with pytest.raises(SettingsError, match="got 'staging' \\(the environment\\)"):
        current_env({"BRACE_ENV": "staging"}, env_file)


def test_current_env_reads_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRACE_ENV", "test")
    assert current_env() == "test"


# -- .env files ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / ".env"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_env_file_syntax(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeff# a comment\n"
        "PLAIN=value\n"
        "  SPACED  =  padded value  \n"
        "export EXPORTED=yes\n"
        "COMMENTED=value # a comment\n"
        "HASH=abc#def\n"
        "SINGLE='literal \\n $HOME # not a comment'\n"
        'DOUBLE="line\\nbreak \\"quoted\\" tab\\t back\\\\slash \\q"\n'
        'MULTI="first\nsecond"\n'
        "EMPTY=\n"
        "QUOTED_EMPTY=''\n"
        "EQUALS=a=b=c\n"
        "UNICODE=héllo ✓ 八十\n"
        "DUP=1\n"
        "DUP=2\n"
        'AFTER="x" # trailing comment\n',
    )
    assert read_env_file(path) == {
        "PLAIN": "value",
        "SPACED": "padded value",
        "EXPORTED": "yes",
        "COMMENTED": "value",
        "HASH": "abc#def",
        "SINGLE": "literal \\n $HOME # not a comment",
        "DOUBLE": 'line\nbreak "quoted" tab\t back\\slash \\q',
        "MULTI": "first\nsecond",
        "EMPTY": "",
        "QUOTED_EMPTY": "",
        "EQUALS": "a=b=c",
        "UNICODE": "héllo ✓ 八十",
        "DUP": "2",
        "AFTER": "x",
    }


def test_missing_env_file_is_empty(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "nope.env") == {}


def test_bad_env_lines_are_reported_with_line_numbers_without_echoing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "GOOD=1\njust some words hunter2\n1BAD=x\nBAD KEY=x\nOPEN='never closed\nNEXT=fine\n",
    )
    with pytest.raises(SettingsError) as caught:
        read_env_file(path)
    found = caught.value.problems
    assert found[0] == "line 2: expected KEY=VALUE"
    assert found[1].startswith("line 3: '1BAD' is not a variable name")
    assert found[2].startswith("line 4: 'BAD KEY' is not a variable name")
    assert found[3] == "line 5: OPEN: the ' quote is never closed"
    assert "hunter2" not in str(caught.value)


def test_text_after_a_closing_quote_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, 'KEY="a" b\n')
    with pytest.raises(SettingsError, match="line 1: KEY: unexpected text after"):
        read_env_file(path)


def test_escaped_quote_does_not_close(tmp_path: Path) -> None:
    path = write(tmp_path, 'KEY="a\\"b" \nKEY2="c\\\\"\n')
    assert read_env_file(path) == {"KEY": 'a"b', "KEY2": "c\\"}


def test_nul_bytes_and_bad_utf8(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="line 2: contains a NUL character"):
        read_env_file(write(tmp_path, b"A=1\nB=\x00\n"))
    with pytest.raises(SettingsError, match="line 2: not UTF-8 text"):
        read_env_file(write(tmp_path, b"A=1\nB=\xff\xfe\n"))


def test_env_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.env").mkdir()
    with pytest.raises(SettingsError, match="it is a directory"):
        read_env_file(tmp_path / "dir.env")


def test_unreadable_env_file(tmp_path: Path) -> None:
    path = write(tmp_path, "A=1\n")
    with pytest.raises(SettingsError, match="cannot read"):
        read_env_file(path / "child")  # a file used as a directory: NotADirectoryError


def test_huge_env_file_values(tmp_path: Path) -> None:
    big = "x" * 1_000_000
    path = write(tmp_path, f"APP_TAGS={big},y\nAPP_PORT=1\n")
    settings = make(env_file=path)
    assert isinstance(settings, AppSettings)
    assert settings.tags == [big, "y"] and settings.port == 1


def test_bad_env_file_stops_settings(tmp_path: Path) -> None:
    path = write(tmp_path, "nonsense\n")
    with pytest.raises(SettingsError, match="has lines that are not KEY=VALUE"):
        make(env_file=path)


def test_unions_reserved_names_and_other_types() -> None:
    class Misc(Settings):
        env_prefix: str = "M_"  # a class option even when annotated, never a field
        either: int | float | None = None
        when: datetime.date | None = None

    settings = Misc(_environ={"M_EITHER": "5", "M_WHEN": "2024-01-02"}, _env_file=None)
    assert "env_prefix" not in {f.name for f in Misc.fields()}
    assert settings.either == 5 and settings.when == datetime.date(2024, 1, 2)  # type: ignore[attr-defined]
    assert problems(Misc, M_WHEN="tomorrow") == [
        "M_WHEN: expected a date, got 'tomorrow' (from the environment)"
    ]

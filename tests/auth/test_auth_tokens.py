"""Bearer tokens: JWTs (tampered, expired, not yet valid, wrong audience, `alg: none`,
algorithm confusion, key rotation), opaque tokens (revocation, expiry), the OAuth2 token
endpoint, and how OpenAPI shows it all."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from brace.auth.tokens import JWTTokens
from brace.testing import TestClient
from support_auth import JWT_SECRET, PASSWORD


def token_for(client: TestClient, email: str = "ada@example.com") -> str:
    r = client.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    # RFC 6749 5.1: no cache on the way keeps a token.
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    return str(body["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_password_flow_then_bearer_requests(client: TestClient) -> None:
    token = token_for(client)
    assert client.get("/private", headers=bearer(token)).text == "hello ada@example.com"
    # Bearer requests carry no cookie: no CSRF token needed for unsafe methods.
    r = client.post("/articles/1/edit", headers=bearer(token_for(client, "ed@example.com")))
    assert r.status_code == 200


def test_token_endpoint_errors(client: TestClient) -> None:
    wrong = client.post("/auth/token", data={"username": "ada@example.com", "password": "no"})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert wrong.headers["cache-control"] == "no-store"
    bad_grant = {"username": "a", "password": "b", "grant_type": "client_credentials"}
    assert client.post("/auth/token", data=bad_grant).status_code == 422
    assert client.post("/auth/token", data={"username": "a"}).status_code == 422
    assert client.post("/auth/token", json={"username": "a", "password": "b"}).status_code == 415


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-3] + ("aaa" if not t.endswith("aaa") else "bbb"),  # signature
        lambda t: t.split(".")[0] + "." + b64({"sub": "3"}) + "." + t.split(".")[2],  # payload
        lambda t: t + "x",
        lambda t: "not.a.jwt",
        lambda t: "a" * 9000,
        lambda t: "",
    ],
)
def test_tampered_tokens_are_refused(client: TestClient, mangle: Any) -> None:
    token = mangle(token_for(client))
    r = client.get("/private", headers=bearer(token) if token else {"Authorization": "Bearer"})
    assert r.status_code == 401


def test_alg_none_is_refused(client: TestClient) -> None:
    now = int(time.time())
    claims = {"sub": "1", "iat": now, "exp": now + 60, "aud": "tests", "iss": "brace"}
    unsigned = b64({"alg": "none", "typ": "JWT", "kid": "default"}) + "." + b64(claims) + "."
    assert client.get("/private", headers=bearer(unsigned)).status_code == 401


def forge(claims: dict[str, Any], key: str = JWT_SECRET, **headers: Any) -> str:
    return pyjwt.encode(claims, key, algorithm="HS256", headers={"kid": "default", **headers})


def test_expired_future_and_foreign_tokens_are_refused(client: TestClient) -> None:
    now = datetime.now(UTC)
    base = {"sub": "1", "iat": now, "aud": "tests", "iss": "brace", "pwh": "x"}
    for claims in (
        {**base, "exp": now - timedelta(seconds=5)},
        {**base, "exp": now + timedelta(hours=1), "nbf": now + timedelta(hours=1)},
        {**base, "exp": now + timedelta(hours=1), "aud": "another-app"},
        {**base, "exp": now + timedelta(hours=1), "iss": "someone-else"},
        {k: v for k, v in base.items() if k != "sub"} | {"exp": now + timedelta(hours=1)},
    ):
        assert client.get("/private", headers=bearer(forge(claims))).status_code == 401
    # Signed with another secret, or naming an unknown key:
    good = {**base, "exp": now + timedelta(hours=1)}
    other = forge(good, key="another-secret-that-is-long-enough-too")
    assert client.get("/private", headers=bearer(other)).status_code == 401
    assert client.get("/private", headers=bearer(forge(good, kid="old"))).status_code == 401


def test_changing_the_password_revokes_issued_jwts(client: TestClient) -> None:
    token = token_for(client)
    assert client.post("/password", headers=bearer(token)).status_code == 204
    assert client.get("/private", headers=bearer(token)).status_code == 401


def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_rs256_and_algorithm_confusion() -> None:
    private, public = rsa_pair()
    tokens = JWTTokens(keys={"k1": public}, private_key=private, algorithm="RS256")
    token = tokens.issue("42")
    assert tokens.verify(token)["sub"] == "42"  # type: ignore[index]
    # The classic confusion: HS256 "signed" with the public key as the HMAC secret.
    header = {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    import hashlib
    import hmac

    now = int(time.time())
    signing_input = b64(header) + "." + b64({"sub": "1", "iat": now, "exp": now + 60})
    signature = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    confused = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    assert tokens.verify(confused) is None


def test_key_rotation() -> None:
    old = JWTTokens(keys={"2026-05": "o" * 40})
    rotated = JWTTokens(keys={"2026-11": "n" * 40, "2026-05": "o" * 40})
    retired = JWTTokens(keys={"2026-11": "n" * 40})
    legacy = old.issue("7")
    assert rotated.verify(legacy) is not None  # old tokens still verify during the rotation
    fresh = rotated.issue("7")
    assert pyjwt.get_unverified_header(fresh)["kid"] == "2026-11"
    assert retired.verify(legacy) is None  # and stop once the old key is dropped


def test_bad_configurations_fail_loudly() -> None:
    _, public = rsa_pair()
    with pytest.raises(ValueError, match="shorter than 32"):
        JWTTokens(secret="short")
    with pytest.raises(ValueError, match="PEM key"):
        JWTTokens(secret=public)
    with pytest.raises(ValueError, match="private_key"):
        JWTTokens(keys={"k": public}, algorithm="RS256")
    with pytest.raises(ValueError, match="unsupported"):
        JWTTokens(secret="s" * 40, algorithm="none")


def test_opaque_tokens_can_be_revoked_and_expire(app: Any, client: TestClient) -> None:
    from sqlalchemy import select

    from brace.auth import User
    from brace.auth.tokens import create_access_token, revoke_access_token
    from brace.db import Database

    db = Database.of(app)

    async def make(lifetime: int | None) -> str:
        async with db.session() as session:
            user = await session.scalar(select(User).where(User.email == "ada@example.com"))
            token = await create_access_token(session, user, label="ci", lifetime=lifetime)
            await session.commit()
            return token

    async def revoke(token: str) -> bool:
        async with db.session() as session:
            done = await revoke_access_token(session, token)
            await session.commit()
            return done

    live = client.run(make(None))
    assert live.startswith("brace_")
    assert client.get("/private", headers=bearer(live)).status_code == 200
    assert client.run(revoke(live)) is True
    assert client.run(revoke(live)) is False
    assert client.get("/private", headers=bearer(live)).status_code == 401
    short = client.run(make(1))
    time.sleep(1.1)
    assert client.get("/private", headers=bearer(short)).status_code == 401
    assert client.get("/private", headers=bearer("brace_" + "x" * 43)).status_code == 401


def test_openapi_shows_the_scheme_and_protected_operations(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"
    private = doc["paths"]["/private"]["get"]
    assert private["security"] == [{"OAuth2PasswordBearer": []}]
    assert "401" in private["responses"]
    assert "403" not in private["responses"]  # logging in is all it takes
    assert doc["paths"]["/me"]["get"]["security"] == [{"OAuth2PasswordBearer": []}, {}]
    staff = doc["paths"]["/staff/panel"]["get"]
    assert staff["security"] == [{"OAuth2PasswordBearer": []}]
    assert {"401", "403"} <= set(staff["responses"])  # a permission check can refuse
    token_op = doc["paths"]["/auth/token"]["post"]
    assert "security" not in token_op
    assert "application/x-www-form-urlencoded" in token_op["requestBody"]["content"]
    # RFC 6749's JSON error for bad credentials, brace's problem for a malformed form: both.
    bad = token_op["responses"]["400"]["content"]
    assert bad["application/json"]["schema"] == {"$ref": "#/components/schemas/OAuthError"}
    assert "application/problem+json" in bad
    assert "Retry-After" in token_op["responses"]["429"]["description"]
    wrong = client.post("/auth/token", data={"username": "ada@example.com", "password": "x"})
    assert wrong.status_code == 400 and wrong.headers["content-type"] == "application/json"
    assert set(wrong.json()) == {"error", "error_description"}
    from openapi_spec_validator import validate

    validate(doc)


def test_importing_tokens_alone_keeps_the_schema_whole(tmp_path: Any) -> None:
    import subprocess
    import sys

    script = (
        "import asyncio\n"
        "import brace.auth.tokens\n"
        "from brace.db import Database\n"
        f"db = Database('sqlite+aiosqlite:///{tmp_path}/t.db')\n"
        "asyncio.run(db.create_all())\n"
        "asyncio.run(db.dispose())\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_own_user_models_need_jwt_for_tokens() -> None:
    from sqlalchemy import String
    from sqlalchemy.orm import Mapped, mapped_column

    from brace import App
    from brace.auth import Auth, UserMixin
    from brace.auth.tokens import enable_tokens
    from brace.db import Database, Model

    class TokenMember(UserMixin, Model):
        nickname: Mapped[str] = mapped_column(String(20), default="")

    app = App()
    Database("sqlite+aiosqlite:///:memory:", app=app)
    Auth(app, user_model=TokenMember, secret_key="s" * 40)
    with pytest.raises(ValueError, match="needs jwt="):
        enable_tokens(app)
    enable_tokens(app, JWTTokens(secret=JWT_SECRET))
    assert len(Auth.of(app).token_authenticators) == 1


def test_an_api_only_app_needs_no_jinja2() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['jinja2'] = None  # as if brace[templates] were not installed\n"
        "import brace.auth\n"
        "from brace.auth.tokens import JWTTokens, enable_tokens\n"
        "try:\n"
        "    brace.auth.auth_views\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'pip install "brace[templates]"' in result.stdout


def test_issuing_for_a_user_binds_the_token_and_a_bare_id_is_refused(db_url: str) -> None:
    from brace import App
    from brace.auth import Auth, RequireUser, User
    from brace.auth.tokens import enable_tokens
    from brace.db import DB, Database

    app = App()
    db = Database(db_url, app=app)
    Auth(app, secret_key="x" * 40)
    tokens = JWTTokens(secret=JWT_SECRET)
    with pytest.raises(TypeError, match="enable_tokens"):
        tokens.issue(User(email="a@example.com"))  # not bound to an app's users yet
    enable_tokens(app, tokens, token_url=None)

    @app.on_startup
    async def seed() -> None:
        await db.drop_all()
        await db.create_all()

    @app.post("/login")
    async def login(session: DB) -> dict[str, str]:
        user = User(email="a@example.com")
        await user.aset_password(PASSWORD)
        session.add(user)
        await session.flush()
        return {"token": tokens.issue(user)}

    @app.get("/me")
    async def me(user: RequireUser) -> str:
        return str(user.email)

    with TestClient(app) as client:
        token = client.post("/login").json()["token"]
        assert client.get("/me", headers=bearer(token)).text == "a@example.com"
    with pytest.raises(TypeError, match=r"tokens\.issue\(user\)"):
        tokens.issue("1")
    assert tokens.issue("1", claims={"pwh": "explicit"})  # an explicit binding is allowed

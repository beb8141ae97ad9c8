"""Password hashing with argon2id and the rules a new password must meet.

Parameters follow OWASP's current advice for argon2id (19 MiB of memory, 2 iterations, one
lane). Hashes made with other parameters still verify, and `verify_password` says when one
should be re-hashed, so raising the cost later upgrades users as they log in.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ._common_passwords import COMMON_PASSWORDS

__all__ = [
    "MIN_LENGTH",
    "PasswordRejected",
    "check_password_rules",
    "hash_password",
    "verify_password",
]

MIN_LENGTH = 10
MAX_LENGTH = 1024  # hashing megabytes of "password" is a denial of service, not security


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class PasswordRejected(ValueError):
    """A new password breaks a rule; the message is written for the person choosing it."""


def check_password_rules(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    """Refuse passwords that are short, huge, common, or just the user's name or email."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"Use at most {MAX_LENGTH} characters.")
    folded = password.casefold()
    if folded in COMMON_PASSWORDS or folded.rstrip("0123456789!.") in COMMON_PASSWORDS:
        raise PasswordRejected("This password is too common: choose another.")
    if len(set(folded)) < 4:
        raise PasswordRejected("Use more than a few different characters.")
    for value in user_inputs:
        if value and (folded == value.casefold() or folded in value.casefold()):
            raise PasswordRejected("The password must not be your name or email.")


def hash_password(password: str) -> str:
    return hasher().hash(password[:MAX_LENGTH])


def verify_password(stored_hash: str, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash). A malformed stored hash never matches and never raises."""
    if len(password) > MAX_LENGTH:
        return False, False
    try:
        hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, hasher().check_needs_rehash(stored_hash)


# A hash to verify against when the account does not exist: the answer then takes as long as
# for a wrong password, so response times do not reveal which accounts exist.
@lru_cache(maxsize=1)
def dummy_hash() -> str:
    return hash_password("not-a-real-password-only-burns-time")

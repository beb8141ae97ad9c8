"""A typed CRUD API over an in-memory store: parameters, bodies, dependencies, OpenAPI.

Run it with `uvicorn --app-dir examples api:app` and open http://127.0.0.1:8000/docs.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

import msgspec

from brace import App, Depends, Header, HTTPError, Path, Query, Router


class PetIn(msgspec.Struct, forbid_unknown_fields=True):
    """What a client sends to create or replace a pet."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    species: Literal["cat", "dog", "bird", "fish"]
    age: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    tags: Annotated[list[str], msgspec.Meta(max_length=10)] = []


class Pet(msgspec.Struct):
    """A stored pet, as the API returns it."""

    id: int
    name: str
    species: str
    age: int
    tags: list[str]


class Page(msgspec.Struct):
    items: list[Pet]
    total: int
    limit: int
    offset: int


class Store:
    """The in-memory store; a real app would put a database session here."""

    def __init__(self) -> None:
        self.pets: dict[int, Pet] = {}
        self._ids = itertools.count(1)

    def add(self, data: PetIn) -> Pet:
        pet = Pet(next(self._ids), data.name, data.species, data.age, list(data.tags))
        self.pets[pet.id] = pet
        return pet

    def get(self, pet_id: int) -> Pet:
        pet = self.pets.get(pet_id)
        if pet is None:
            raise HTTPError(404, f"No pet with id {pet_id}.")
        return pet


def store() -> Store:
    return Store()


StoreDep = Annotated[Store, Depends(store, scope="app")]
API_KEY = "let-me-in"


def require_api_key(
    x_api_key: Annotated[str | None, Header(description="Write key")] = None,
) -> None:
    if x_api_key != API_KEY:
        raise HTTPError(401, "Send the X-API-Key header to change pets.")


def pagination(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    offset: Annotated[int, Query(ge=0, description="Items to skip")] = 0,
) -> tuple[int, int]:
    return limit, offset


pets = Router(prefix="/pets", tags=["pets"])
PetId = Annotated[int, Path(ge=1, description="The pet's id")]


@pets.get("")
async def list_pets(
    db: StoreDep,
    page: Annotated[tuple[int, int], Depends(pagination)],
    species: Literal["cat", "dog", "bird", "fish"] | None = None,
    tag: Annotated[list[str], Query(description="Only pets with all these tags")] = [],  # noqa: B006
) -> Page:
    """List pets, oldest first."""
    limit, offset = page
    found = [
        p
        for p in db.pets.values()
        if (species is None or p.species == species) and all(t in p.tags for t in tag)
    ]
    return Page(found[offset : offset + limit], len(found), limit, offset)


WRITE = {"dependencies": [Depends(require_api_key)], "responses": {401: "Missing or wrong API key"}}
MISSING = {404: "No pet with this id"}


@pets.post("", status_code=201, **WRITE)
async def create_pet(db: StoreDep, pet: PetIn) -> Pet:
    """Add a pet."""
    return db.add(pet)


@pets.get("/{pet_id}", responses=MISSING)
async def get_pet(db: StoreDep, pet_id: PetId) -> Pet:
    """Fetch one pet."""
    return db.get(pet_id)


@pets.put("/{pet_id}", dependencies=WRITE["dependencies"], responses={**MISSING, 401: "No key"})
async def replace_pet(db: StoreDep, pet_id: PetId, pet: PetIn) -> Pet:
    """Replace a pet's data."""
    db.get(pet_id)
    updated = Pet(pet_id, pet.name, pet.species, pet.age, list(pet.tags))
    db.pets[pet_id] = updated
    return updated


@pets.delete("/{pet_id}", dependencies=WRITE["dependencies"], responses={**MISSING, 401: "No key"})
async def delete_pet(db: StoreDep, pet_id: PetId) -> None:
    """Remove a pet."""
    db.get(pet_id)
    del db.pets[pet_id]


app = App(title="Pet store", version="1.0.0", description="A typed CRUD API built with brace.")
app.include(pets)

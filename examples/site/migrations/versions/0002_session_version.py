"""Users get a session version: logging out ends a signed-cookie session for good.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table when it must; other databases ALTER it. The server
    # default fills the rows that exist already, on every database.
    with op.batch_alter_table("auth_user") as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_user") as batch_op:
        batch_op.drop_column("session_version")

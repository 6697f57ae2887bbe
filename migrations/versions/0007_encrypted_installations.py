"""installations: room for encrypted tokens

Revision ID: 0007_encrypted_installations
Revises: 0005_integrations
Create Date: 2026-12-04 10:00:00.000000

Installation tokens are stored encrypted (`fernet:…`, see bot/core/secrets.py), which is longer
than the 255 characters the column allowed. Existing rows are not changed here: the migration
has no key. The web process encrypts plaintext rows at start, or `switchboard secrets reencrypt`
does it at once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_encrypted_installations"
down_revision: str | Sequence[str] | None = "0006_theme_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("installations", schema=None) as batch_op:
        batch_op.alter_column(
            "bot_token", existing_type=sa.String(length=255), type_=sa.Text(), existing_nullable=True
        )


def downgrade() -> None:
    # Encrypted tokens do not fit the old column: PostgreSQL refuses the downgrade while any is
    # stored, rather than cutting them short.
    with op.batch_alter_table("installations", schema=None) as batch_op:
        batch_op.alter_column(
            "bot_token", existing_type=sa.Text(), type_=sa.String(length=255), existing_nullable=True
        )

"""device_authorizations.amr: how the user who approved a device signed in (RFC 8176)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 02:15:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('device_authorizations') as batch:
        batch.add_column(sa.Column('amr', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('device_authorizations') as batch:
        batch.drop_column('amr')

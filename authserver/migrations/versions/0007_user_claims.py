"""users.claims: the OpenID Connect standard claims a user has (OIDC Core §5.1)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:15:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('claims', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('claims')

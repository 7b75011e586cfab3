"""clients.allowed_origins (CORS) and clients.resource_server (introspection for an API)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('allowed_origins', sa.JSON(), nullable=False,
                                   server_default='[]'))
        batch.add_column(sa.Column('resource_server', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('resource_server')
        batch.drop_column('allowed_origins')

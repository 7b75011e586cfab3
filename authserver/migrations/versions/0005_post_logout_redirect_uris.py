"""clients.post_logout_redirect_uris (OIDC RP-Initiated Logout §3.1)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('post_logout_redirect_uris', sa.JSON(), nullable=False,
                                   server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('post_logout_redirect_uris')

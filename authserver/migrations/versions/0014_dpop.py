"""clients.dpop_bound and clients.profile (FAPI 2.0), and the dpop_jkt of refresh token families and codes: DPoP (RFC 9449)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('dpop_bound', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('profile', sa.String(length=10), nullable=True))
    for table in ('refresh_token_families', 'authorization_codes'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('dpop_jkt', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('authorization_codes') as batch:
        batch.drop_column('dpop_jkt')
    with op.batch_alter_table('refresh_token_families') as batch:
        batch.drop_column('dpop_jkt')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('profile')
        batch.drop_column('dpop_bound')

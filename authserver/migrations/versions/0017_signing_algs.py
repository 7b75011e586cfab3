"""clients.id_token_signed_response_alg and apis.signing_alg: signing algorithms beyond RS256 (the keys' alg column exists since 0009; every key before this is RS256)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('id_token_signed_response_alg', sa.String(length=10),
                                   nullable=True))
    with op.batch_alter_table('apis') as batch:
        batch.add_column(sa.Column('signing_alg', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('apis') as batch:
        batch.drop_column('signing_alg')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('id_token_signed_response_alg')

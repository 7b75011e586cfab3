"""pushed_requests and clients.require_par: pushed authorization requests (RFC 9126)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pushed_requests',
    sa.Column('request_uri_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('request_uri_hash')
    )
    op.create_index('ix_pushed_requests_expires_at', 'pushed_requests', ['expires_at'])
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('require_par', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('require_par')
    op.drop_table('pushed_requests')

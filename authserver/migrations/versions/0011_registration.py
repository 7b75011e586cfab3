"""initial_access_tokens and clients.registration_access_token_hash: dynamic client
registration (RFC 7591, RFC 7592)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('initial_access_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_initial_access_tokens_expires_at', 'initial_access_tokens',
                    ['expires_at'])
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('registration_access_token_hash', sa.String(length=64),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('registration_access_token_hash')
    op.drop_table('initial_access_tokens')

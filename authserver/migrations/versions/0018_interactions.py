"""interactions: an authorization request validated once, resumed by its login and consent steps

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 00:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interactions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('browser', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('login_sid', sa.String(length=64), nullable=True),
    sa.Column('stale_sid', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id_hash')
    )
    op.create_index('ix_interactions_expires_at', 'interactions', ['expires_at'])


def downgrade() -> None:
    op.drop_table('interactions')

"""signing_keys and key_store_version: the key store in the database (AUTHSERVER_KEY_STORE=database)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signing_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('alg', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('activated_at', sa.Float(), nullable=True),
    sa.Column('retired_at', sa.Float(), nullable=True),
    sa.Column('encrypted_key', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('kid')
    )
    version = op.create_table('key_store_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(version, [{'id': 1, 'version': 0}])


def downgrade() -> None:
    op.drop_table('key_store_version')
    op.drop_table('signing_keys')
